using Cleanroom.Policy;

namespace Cleanroom.Cli.Policy;

/// <summary>The flags shared by <c>policy validate</c> and <c>policy show</c>.</summary>
internal sealed record PolicyCommandOptions
{
    /// <summary><c>-c/--chdir DIR</c>: the repository directory; null for the working directory.</summary>
    public string? Directory { get; init; }

    /// <summary><c>--policy FILE</c>: an explicit policy file; null to discover one.</summary>
    public string? PolicyFile { get; init; }

    /// <summary><c>--json</c>: machine-readable output on stdout.</summary>
    public bool Json { get; init; }
}
