namespace Cleanroom.Workspaces.Git;

/// <summary>What a commit's tree holds, counted before anything is exported.</summary>
/// <param name="Entries">Files, directories, symlinks and submodules, recursively.</param>
/// <param name="ContentBytes">Sum of blob sizes (file contents and symlink targets).</param>
/// <param name="Submodules">Paths of gitlinks (submodules), which the tree's own checkout leaves empty.</param>
/// <param name="Gitlinks">The same gitlinks with the commit each records.</param>
internal sealed record TreeSummary(long Entries, long ContentBytes, IReadOnlyList<string> Submodules, IReadOnlyList<Gitlink> Gitlinks);

/// <summary>A submodule entry of a tree: its path (from the tree's root) and the commit the tree records for it.</summary>
internal sealed record Gitlink(string Path, string Commit);
