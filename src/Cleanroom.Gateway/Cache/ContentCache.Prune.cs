namespace Cleanroom.Gateway.Cache;

/// <summary>Operator-driven removal: <c>cleanroom cache prune</c>.</summary>
public sealed partial class ContentCache
{
    /// <summary>
    /// Removes the entries <paramref name="options"/> selects, then every blob no remaining entry points at (pinned
    /// blobs stay), under the cache's lock so no lookup or read sees a half-pruned state. Removed blobs leave the
    /// eviction policy too. A dry run changes nothing and reports exactly what a real run would remove.
    /// </summary>
    /// <exception cref="ArgumentException">The options are invalid (see <see cref="CachePruneOptions.Validate"/>).</exception>
    public CachePruneResult Prune(CachePruneOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            FlushAccessesLocked();
            var selection = _metadata.Prune(options, _time.GetUtcNow());
            if (!options.DryRun)
            {
                _memo.Clear();
                // The rows are gone (committed) before the files: a crash in between leaves orphan files, which the
                // next start deletes; never a row without its file.
                foreach (var (digest, _) in selection.RemovedBlobs)
                {
                    _policy.Remove(digest);
                    _store.Delete(digest);
                }
            }

            return new CachePruneResult
            {
                Listed = selection.Listed,
                RemovedEntries = selection.RemovedEntries,
                RemovedBlobs = selection.RemovedBlobs.Count,
                FreedBytes = selection.RemovedBlobs.Sum(b => b.Size),
                KeptPinnedBlobs = selection.KeptPinnedBlobs,
                DryRun = options.DryRun,
                DefaultedToExpired = options.DefaultsToExpired,
            };
        }
    }
}
