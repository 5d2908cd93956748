using Cleanroom.Api.V1;
using Cleanroom.Escaping;
using Cleanroom.Gateway.Cache;
using Cleanroom.Gateway.Server;
using Cleanroom.Workspaces.Repositories;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Cleanroom.Daemon.Services;

/// <summary>
/// cleanroom.v1.CacheService: a thin layer over the daemon's <see cref="ContentCache"/> and its
/// <see cref="RepositoryStore"/>'s mirrors (one surface for both; they stay apart in every answer), plus the gateway's
/// route counters while the daemon's gateway runs.
/// </summary>
internal sealed class CacheApi(ContentCache cache, DaemonOptions options, IServiceProvider services) : CacheService.CacheServiceBase
{
    /// <summary>Entries per streamed message: small enough that 2048-character keys stay far below the message size limit.</summary>
    internal const int BatchSize = 500;

    /// <summary>How many removed entries a prune lists (the counts cover all of them).</summary>
    internal const int PruneListed = CachePruneOptions.DefaultListed;

    public override Task<GetCacheStatsResponse> GetCacheStats(GetCacheStatsRequest request, ServerCallContext context)
    {
        var response = Guard(cache.Statistics).ToProto(options.EffectiveCacheDir);
        if (services.GetService<IGatewayRouteStatistics>() is { IsRunning: true } gateway)
        {
            response.GatewayRunning = true;
            response.Routes.AddRange(gateway.Statistics().Select(r => r.ToProto()));
        }

        if (Repositories is { } store)
        {
            var mirrors = store.ListMirrors();
            response.MirrorDirectory = store.Options.StoreDirectory;
            response.Mirrors = mirrors.Count;
            response.MirrorBytes = mirrors.Sum(m => m.SizeBytes);
            response.MirrorMaxBytes = store.Options.MaxTotalBytes;
            response.MirrorMaxAge = Duration.FromTimeSpan(store.Options.MaxAge);
        }

        return Task.FromResult(response);
    }

    /// <summary>The repository store, when the daemon has one (a test host may serve the cache alone).</summary>
    private RepositoryStore? Repositories => services.GetService<RepositoryStore>();

    /// <summary>Mirrors belong to git: listed and pruned with every protocol or with git's alone.</summary>
    private static bool IncludesMirrors(string? protocol) => protocol is null or "git";

    public override async Task ListCacheEntries(ListCacheEntriesRequest request, IServerStreamWriter<ListCacheEntriesResponse> responseStream, ServerCallContext context)
    {
        var protocol = Protocol(request.Protocol);
        if (request.Limit is < 0 or > CacheEntryQuery.MaxLimit)
        {
            throw DaemonException.InvalidArgument($"the limit is 1 to {CacheEntryQuery.MaxLimit} (0 for the default of {CacheEntryQuery.DefaultLimit}), not {request.Limit}");
        }

        // Read in pages, each under the cache's lock for a moment, so a long listing neither holds the lock nor all
        // of its (guest-named, up to 2 KiB) keys in memory at once.
        var limit = request.Limit == 0 ? CacheEntryQuery.DefaultLimit : request.Limit;
        var remaining = limit;
        var mirrors = IncludesMirrors(protocol) && Repositories is { } store ? store.ListMirrors().Reverse().ToList() : [];
        CacheEntry? after = null;
        var first = true;
        while (true)
        {
            var page = Guard(() => cache.ListEntries(new CacheEntryQuery { Protocol = protocol, Limit = Math.Min(remaining, BatchSize), After = after }));
            var message = new ListCacheEntriesResponse { TotalMatching = page.TotalMatching ?? 0, TotalMirrors = first ? mirrors.Count : 0 };
            message.Entries.AddRange(page.Entries.Select(e => e.Entry.ToProto(e.BlobLastAccess)));
            if (first || message.Entries.Count > 0)
            {
                await responseStream.WriteAsync(message, context.CancellationToken);
            }

            first = false;
            remaining -= page.Entries.Count;
            if (!page.HasMore || remaining <= 0)
            {
                break;
            }

            after = page.Entries[^1].Entry;
        }

        // Then the mirrors, most recently used first, in batches of their own (a URL may be 2 KiB too).
        foreach (var batch in mirrors.Take(limit).Chunk(BatchSize))
        {
            var message = new ListCacheEntriesResponse();
            message.Mirrors.AddRange(batch.Select(m => m.ToProto()));
            await responseStream.WriteAsync(message, context.CancellationToken);
        }
    }

    public override async Task<PruneCacheResponse> PruneCache(PruneCacheRequest request, ServerCallContext context)
    {
        TimeSpan? olderThan = null;
        if (request.OlderThan is { } duration)
        {
            olderThan = duration.ToTimeSpan();
            if (olderThan <= TimeSpan.Zero || olderThan > CachePruneOptions.MaxAge)
            {
                throw DaemonException.InvalidArgument($"older_than is more than zero and at most {CachePruneOptions.MaxAge.TotalDays:0} days");
            }
        }

        if (request.All && (olderThan is not null || request.Expired))
        {
            throw DaemonException.InvalidArgument("all removes every entry; it cannot be combined with older_than or expired");
        }

        var protocol = Protocol(request.Protocol);
        var result = Guard(() => cache.Prune(new CachePruneOptions
        {
            All = request.All,
            OlderThan = olderThan,
            ExpiredOnly = request.Expired,
            Protocol = protocol,
            DryRun = request.DryRun,
            MaxListed = PruneListed,
        }));
        var response = new PruneCacheResponse
        {
            RemovedEntries = result.RemovedEntries,
            RemovedBlobs = result.RemovedBlobs,
            FreedBytes = result.FreedBytes,
            KeptPinnedBlobs = result.KeptPinnedBlobs,
            DryRun = result.DryRun,
            DefaultedToExpired = result.DefaultedToExpired,
        };
        response.Removed.AddRange(result.Listed.Select(e => e.ToProto()));
        if (IncludesMirrors(protocol) && Repositories is { } store)
        {
            var (maxBytes, maxAge) = MirrorLimits(request, olderThan, store.Options);
            var mirrors = await store.PruneAsync(maxBytes, maxAge, request.DryRun, context.CancellationToken);
            response.RemovedMirrors.AddRange(mirrors.Removed.Select(m => m.ToProto()));
            response.FreedMirrorBytes = mirrors.FreedBytes;
        }

        return response;
    }

    /// <summary>
    /// What a prune's selectors mean for mirrors, which have no TTL: all takes every one; an age, those unused for
    /// longer; otherwise (expired, or no selector) those past the store's own budget, as after every fetch.
    /// </summary>
    internal static (long MaxBytes, TimeSpan MaxAge) MirrorLimits(PruneCacheRequest request, TimeSpan? olderThan, RepositoryStoreOptions store) =>
        request.All ? (-1, TimeSpan.Zero)
        : olderThan is { } age ? (long.MaxValue, age)
        : (store.MaxTotalBytes, store.MaxAge);

    private static string? Protocol(string text) =>
        text.Length == 0 ? null
        : CacheKey.IsValidName(text) ? text
        : throw DaemonException.InvalidArgument($"a protocol is 1 to {CacheKey.MaxNameLength} characters of a-z, 0-9, '.', '_', '-' (got {UntrustedText.Quote(text, 64)})");

    /// <summary>Runs a cache call, turning what it refuses into API errors with a reason code.</summary>
    private static T Guard<T>(Func<T> call)
    {
        try
        {
            return call();
        }
        catch (ArgumentException ex)
        {
            throw DaemonException.InvalidArgument(ex.Message);
        }
        catch (ObjectDisposedException)
        {
            throw new DaemonException(StatusCode.Unavailable, ReasonCode.FailedPrecondition, "the content cache is closed: the daemon is shutting down");
        }
    }
}
