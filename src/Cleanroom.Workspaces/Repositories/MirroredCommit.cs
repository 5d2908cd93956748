namespace Cleanroom.Workspaces.Repositories;

/// <summary>A commit available in the store's mirror of a remote repository.</summary>
/// <param name="MirrorPath">The bare mirror; <see cref="WorkspaceImageStore.EnsureAsync"/> takes it as the repository.</param>
/// <param name="Commit">The full object id the revision resolved to.</param>
/// <param name="Fetched">True when this call contacted the remote; false when the mirror already had the commit.</param>
/// <param name="Url">The normalised URL (never with credentials), for records and messages.</param>
public sealed record MirroredCommit(string MirrorPath, string Commit, bool Fetched, string Url);

/// <summary>What <see cref="RepositoryStore.PruneAsync(long, TimeSpan, CancellationToken)"/> removed and what remains.</summary>
/// <param name="Removed">The deleted mirrors (on a dry run: those that would be), least recently used first.</param>
/// <param name="FreedBytes">Bytes the deleted mirrors used.</param>
/// <param name="RemainingBytes">Bytes the remaining mirrors use.</param>
public sealed record RepositoryPruneResult(IReadOnlyList<RepositoryMirrorInfo> Removed, long FreedBytes, long RemainingBytes)
{
    /// <summary>Normalised URLs of <see cref="Removed"/>, in the same order.</summary>
    public IReadOnlyList<string> RemovedUrls => [.. Removed.Select(m => m.Url)];
}
