namespace Cleanroom.Policy;

/// <summary>The outcome of looking for a block input in the repository.</summary>
public enum InputMatch
{
    /// <summary>At least one file matches.</summary>
    Matched,

    /// <summary>Nothing matches.</summary>
    NotFound,

    /// <summary>The (non-glob) path names a directory; inputs are files.</summary>
    IsDirectory,

    /// <summary>The search gave up after visiting too many entries without a match.</summary>
    SearchTooLarge,
}
