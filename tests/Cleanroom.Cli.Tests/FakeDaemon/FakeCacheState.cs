using System.Collections.Concurrent;
using Cleanroom.Api.V1;

namespace Cleanroom.Cli.Tests.FakeDaemon;

/// <summary>What the fake daemon's CacheService answers with and was asked (NOT the real cache: canned data only).</summary>
internal sealed class FakeCacheState
{
    /// <summary>The GetCacheStats answer.</summary>
    public GetCacheStatsResponse Stats { get; set; } = new();

    /// <summary>The entries ListCacheEntries serves (filtered by protocol, cut at the limit), in this order.</summary>
    public IReadOnlyList<CacheEntrySummary> Entries { get; set; } = [];

    /// <summary>The repository mirrors ListCacheEntries serves after the entries (for no protocol or git), in this order.</summary>
    public IReadOnlyList<RepositoryMirrorSummary> Mirrors { get; set; } = [];

    /// <summary>Every ListCacheEntries request, in order.</summary>
    public ConcurrentQueue<ListCacheEntriesRequest> ListRequests { get; } = new();

    /// <summary>The PruneCache answer (dry_run is echoed from the request).</summary>
    public PruneCacheResponse PruneResponse { get; set; } = new();

    /// <summary>Every PruneCache request, in order.</summary>
    public ConcurrentQueue<PruneCacheRequest> PruneRequests { get; } = new();
}
