using Cleanroom.Gateway.Cache.Eviction;

namespace Cleanroom.Gateway.Cache;

/// <summary>What the cache holds now (<see cref="ContentCache.Statistics"/>), read in one pass under the cache's lock.</summary>
public sealed record CacheStatistics
{
    /// <summary>Bytes of the blobs cached now (pinned ones included).</summary>
    public required long UsedBytes { get; init; }

    /// <summary>The byte budget (<see cref="ContentCacheOptions.MaxTotalBytes"/>).</summary>
    public required long MaxBytes { get; init; }

    /// <summary>The largest single object (<see cref="ContentCacheOptions.MaxObjectBytes"/>).</summary>
    public required long MaxObjectBytes { get; init; }

    /// <summary>Which eviction policy keeps the budget.</summary>
    public required EvictionPolicyKind EvictionPolicy { get; init; }

    /// <summary>Blobs cached now.</summary>
    public required long BlobCount { get; init; }

    /// <summary>Keyed entries (several may share one blob).</summary>
    public required long EntryCount { get; init; }

    /// <summary>Blobs holding at least one pin (never evicted, never pruned).</summary>
    public required long PinnedBlobs { get; init; }

    /// <summary>Bytes of the pinned blobs.</summary>
    public required long PinnedBytes { get; init; }

    /// <summary>Entries per protocol, by protocol name.</summary>
    public required IReadOnlyList<CacheProtocolStatistics> Protocols { get; init; }
}
