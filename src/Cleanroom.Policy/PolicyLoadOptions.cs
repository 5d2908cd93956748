namespace Cleanroom.Policy;

/// <summary>What <see cref="PolicyLoader.Load"/> should read.</summary>
public sealed record PolicyLoadOptions
{
    /// <summary>The repository directory (<c>-c/--chdir</c>); null means the current directory.</summary>
    public string? Directory { get; init; }

    /// <summary>An explicit policy file (<c>--policy</c>), relative to <see cref="Directory"/>; null to discover.</summary>
    public string? PolicyFile { get; init; }

    /// <summary>Accept <c>network.default: allow</c> (<c>--dangerously-allow-all</c>).</summary>
    public bool AllowDefaultAllow { get; init; }

    /// <summary>Check that block inputs exist in the repository (on by default; the CLI always checks).</summary>
    public bool CheckInputFiles { get; init; } = true;
}
