namespace Cleanroom.Policy;

/// <summary>Choices the caller makes about a compilation; the defaults are the strict ones.</summary>
public sealed record PolicyCompileOptions
{
    /// <summary>The strict defaults: no file lookups, no <c>default: allow</c>.</summary>
    public static PolicyCompileOptions Default { get; } = new();

    /// <summary>
    /// Where block inputs are looked up. Null skips the check (the daemon, which never reads repository files);
    /// the CLI passes a <see cref="DirectoryRepositoryFiles"/> for the checkout.
    /// </summary>
    public IRepositoryFiles? RepositoryFiles { get; init; }

    /// <summary>Accept <c>network.default: allow</c>. Only set for <c>--dangerously-allow-all</c>.</summary>
    public bool AllowDefaultAllow { get; init; }
}
