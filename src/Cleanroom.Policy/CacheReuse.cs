namespace Cleanroom.Policy;

/// <summary>How the outputs of a group of setup blocks may be reused between sandboxes.</summary>
public enum CacheReuse
{
    /// <summary>Only for the same policy, image, repository, inputs, command, env and outputs (the default).</summary>
    Exact,

    /// <summary>Across images and repositories when the declared inputs match; needs at least one input.</summary>
    Portable,
}
