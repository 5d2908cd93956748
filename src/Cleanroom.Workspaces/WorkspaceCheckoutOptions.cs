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
}
