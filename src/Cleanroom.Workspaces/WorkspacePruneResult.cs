namespace Cleanroom.Workspaces;

/// <summary>What <see cref="WorkspaceImageStore.PruneAsync"/> removed and what the store still uses.</summary>
/// <param name="RemovedCommits">Commits whose images were deleted, least recently used first.</param>
/// <param name="FreedBytes">Disk blocks released (images are sparse: allocated, not apparent, size).</param>
/// <param name="RemainingBytes">Disk blocks the remaining images use.</param>
public sealed record WorkspacePruneResult(IReadOnlyList<string> RemovedCommits, long FreedBytes, long RemainingBytes);
