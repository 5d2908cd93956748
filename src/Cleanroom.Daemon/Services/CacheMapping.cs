using Cleanroom.Api.V1;
using Cleanroom.Gateway.Cache;
using Cleanroom.Gateway.Cache.Eviction;
using Cleanroom.Gateway.Server;
using Cleanroom.Workspaces.Repositories;
using Google.Protobuf.WellKnownTypes;

namespace Cleanroom.Daemon.Services;

/// <summary>The content cache's views to their wire form.</summary>
internal static class CacheMapping
{
    public static GetCacheStatsResponse ToProto(this CacheStatistics stats, string directory)
    {
        var response = new GetCacheStatsResponse
        {
            Directory = directory,
            UsedBytes = stats.UsedBytes,
            MaxBytes = stats.MaxBytes,
            MaxObjectBytes = stats.MaxObjectBytes,
            EvictionPolicy = stats.EvictionPolicy == EvictionPolicyKind.Lru ? "lru" : "s3fifo",
            Blobs = stats.BlobCount,
            Entries = stats.EntryCount,
            PinnedBlobs = stats.PinnedBlobs,
            PinnedBytes = stats.PinnedBytes,
        };
        response.Protocols.AddRange(stats.Protocols.Select(p => new CacheProtocolStats
        {
            Protocol = p.Protocol,
            Entries = p.Entries,
            Bytes = p.Bytes,
            FreshEntries = p.FreshEntries,
            ExpiredEntries = p.ExpiredEntries,
        }));
        return response;
    }

    public static GatewayRouteStats ToProto(this GatewayRouteCounters route) => new()
    {
        Route = route.Route,
        Hits = route.Hits,
        Misses = route.Misses,
        StaleServed = route.StaleServed,
        Bypassed = route.Bypassed,
        Refused = route.Refused,
        UpstreamErrors = route.UpstreamErrors,
        BytesServed = route.BytesServed,
    };

    public static CacheEntrySummary ToProto(this CacheEntry entry, DateTimeOffset? blobLastAccess = null)
    {
        var summary = new CacheEntrySummary
        {
            Protocol = entry.Key.Protocol,
            Kind = entry.Key.Kind,
            Key = entry.Key.Key,
            Digest = entry.Digest.ToString(),
            SizeBytes = entry.Size,
            ContentType = entry.ContentType,
            StoredAt = Timestamp.FromDateTimeOffset(entry.StoredAt),
            Immutable = entry.IsImmutable,
            UpstreamStatus = entry.UpstreamStatus,
        };
        if (entry.ExpiresAt is { } expires)
        {
            summary.ExpiresAt = Timestamp.FromDateTimeOffset(expires);
        }

        if (blobLastAccess is { } access)
        {
            summary.LastAccessAt = Timestamp.FromDateTimeOffset(access);
        }

        return summary;
    }

    public static RepositoryMirrorSummary ToProto(this RepositoryMirrorInfo mirror)
    {
        var summary = new RepositoryMirrorSummary
        {
            Url = mirror.Url,
            SizeBytes = mirror.SizeBytes,
            LastUseAt = Timestamp.FromDateTime(DateTime.SpecifyKind(mirror.LastUseUtc, DateTimeKind.Utc)),
        };
        if (mirror.LastFetchUtc is { } fetched)
        {
            summary.LastFetchAt = Timestamp.FromDateTime(DateTime.SpecifyKind(fetched, DateTimeKind.Utc));
        }

        return summary;
    }
}
