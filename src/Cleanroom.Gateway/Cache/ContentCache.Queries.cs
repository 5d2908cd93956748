namespace Cleanroom.Gateway.Cache;

/// <summary>The cache's read-only views for operators: totals and a listing of entries.</summary>
public sealed partial class ContentCache
{
    /// <summary>Used and allowed bytes, blobs, entries, pins, and entries per protocol (fresh and expired).</summary>
    public CacheStatistics Statistics()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            FlushAccessesLocked();
            var (_, _, pinnedBlobs, pinnedBytes) = _metadata.BlobTotals();
            var protocols = _metadata.ProtocolTotals(_time.GetUtcNow());
            return new CacheStatistics
            {
                // The policy's view is what the budget is checked against; the metadata agrees with it under this lock.
                UsedBytes = _policy.UsedBytes,
                MaxBytes = Options.MaxTotalBytes,
                MaxObjectBytes = Options.MaxObjectBytes,
                EvictionPolicy = Options.EvictionPolicy,
                BlobCount = _policy.Count,
                EntryCount = protocols.Sum(p => p.Entries),
                PinnedBlobs = pinnedBlobs,
                PinnedBytes = pinnedBytes,
                Protocols = protocols,
            };
        }
    }

    /// <summary>
    /// Entries newest first (by when they were stored), of one protocol or all, at most <see cref="CacheEntryQuery.Limit"/>;
    /// each with its blob's last access. Page through a long listing with <see cref="CacheEntryQuery.After"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The query is invalid (see <see cref="CacheEntryQuery.Validate"/>).</exception>
    public CacheEntryListing ListEntries(CacheEntryQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        query.Validate();
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            FlushAccessesLocked();

            // One more than asked for tells whether the listing goes on.
            var (entries, total) = _metadata.ListEntries(query.Protocol, query.After, query.Limit + 1);
            var hasMore = entries.Count > query.Limit;
            if (hasMore)
            {
                entries.RemoveAt(entries.Count - 1);
            }

            return new CacheEntryListing(entries, total, hasMore);
        }
    }
}
