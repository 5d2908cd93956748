using Cleanroom.Policy;

namespace Cleanroom.Cli.Policy;

/// <summary>The flags of <c>policy init</c>.</summary>
internal sealed record PolicyInitOptions
{
    /// <summary><c>-c/--chdir DIR</c>: the repository directory; null for the working directory.</summary>
    public string? Directory { get; init; }

    /// <summary><c>--path FILE</c>: where to write; null for <c>cleanroom.yaml</c> in the repository directory.</summary>
    public string? Path { get; init; }

    /// <summary><c>--force</c>: overwrite an existing file.</summary>
    public bool Force { get; init; }

    /// <summary><c>--image REF</c>: the image to start from; null for <see cref="StarterPolicy.DefaultImage"/>.</summary>
    public string? ImageRef { get; init; }
}
