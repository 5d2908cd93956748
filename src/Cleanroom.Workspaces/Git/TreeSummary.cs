namespace Cleanroom.Workspaces.Git;

/// <summary>What a commit's tree holds, counted before anything is exported.</summary>
/// <param name="Entries">Files, directories, symlinks and submodules, recursively.</param>
/// <param name="ContentBytes">Sum of blob sizes (file contents and symlink targets).</param>
/// <param name="Submodules">Paths of gitlinks (submodules), which are not exported.</param>
internal sealed record TreeSummary(long Entries, long ContentBytes, IReadOnlyList<string> Submodules);
