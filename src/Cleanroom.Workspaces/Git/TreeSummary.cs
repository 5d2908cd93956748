namespace Cleanroom.Workspaces.Git;

/// <summary>What a commit's tree holds, counted before anything is exported.</summary>
/// <param name="Entries">Files, directories, symlinks and submodules, recursively.</param>
/// <param name="ContentBytes">Sum of blob sizes (file contents and symlink targets).</param>
/// <param name="Submodules">Paths of gitlinks (submodules), which the tree's own checkout leaves empty.</param>
/// <param name="Gitlinks">The same gitlinks with the commit each records.</param>
/// <param name="Listing">
/// This tree's own entries in git's order (not those of trees counted before it), when the scan was asked to keep them
/// and they fit <see cref="TreeScanner.MaxListedEntries"/>; null otherwise.
/// </param>
internal sealed record TreeSummary(
    long Entries, long ContentBytes, IReadOnlyList<string> Submodules, IReadOnlyList<Gitlink> Gitlinks, IReadOnlyList<TreeEntry>? Listing = null);

/// <summary>A submodule entry of a tree: its path (from the tree's root) and the commit the tree records for it.</summary>
internal sealed record Gitlink(string Path, string Commit);
