namespace Cleanroom.Gateway.Cache;

/// <summary>What <see cref="ContentCache.Prune"/> removed (on a dry run: would remove).</summary>
public sealed record CachePruneResult
{
    /// <summary>The first removed entries, newest first (at most <see cref="CachePruneOptions.MaxListed"/>).</summary>
    public required IReadOnlyList<CacheEntry> Listed { get; init; }

    /// <summary>Every entry removed.</summary>
    public required long RemovedEntries { get; init; }

    /// <summary>Blobs removed: those no remaining entry points at (and, with <see cref="CachePruneOptions.All"/> or an age and no protocol, unreferenced ones).</summary>
    public required long RemovedBlobs { get; init; }

    /// <summary>Bytes of the removed blobs: the disk freed.</summary>
    public required long FreedBytes { get; init; }

    /// <summary>Blobs that would have gone but are pinned, so they stay (their entries were removed all the same).</summary>
    public required long KeptPinnedBlobs { get; init; }

    /// <summary>True when nothing was changed.</summary>
    public required bool DryRun { get; init; }

    /// <summary>True when only expired entries were selected because no selector was given.</summary>
    public required bool DefaultedToExpired { get; init; }
}
