namespace Cleanroom.Workspaces;

/// <summary>What goes into a commit's image besides the commit's own tree.</summary>
public sealed record WorkspaceCheckoutOptions
{
    /// <summary>The options of a plain checkout: submodules left as empty directories.</summary>
    public static WorkspaceCheckoutOptions Default { get; } = new();

    /// <summary>
    /// Check out every submodule (recursively) at the commit the superproject records, with a git layout of its own;
    /// false leaves them empty and reports them in <see cref="WorkspaceImage.SkippedSubmodules"/>.
    /// </summary>
    public bool Submodules { get; init; }

    /// <summary>
    /// The URL the repository was fetched from (a <c>--repo-url</c> mirror): relative submodule URLs resolve against
    /// it, and the repository's own module directories are not looked in. Null for a local repository, whose
    /// <c>remote.origin.url</c> is used instead.
    /// </summary>
    public string? RepositoryUrl { get; init; }

    /// <summary>
    /// Whether the host may fetch a submodule that is not on it from <c>(host, port)</c>, with the host's git
    /// credentials. A repository's <c>.gitmodules</c> is written by whoever wrote the repository, so without this
    /// gate a hostile commit could name any private repository those credentials reach and have its files put in the
    /// workspace. The daemon allows exactly what the sandbox's network policy allows its guest to reach. Null refuses
    /// every fetch: only submodules already on the host are checked out.
    /// </summary>
    public Func<string, int, bool>? SubmoduleFetchAllowed { get; init; }
}
