using Cleanroom.Api.V1;
using Cleanroom.Gateway.Cache;
using Cleanroom.Gateway.Server;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace Cleanroom.Daemon.Tests;

/// <summary>cleanroom.v1.CacheService end to end: the real service and cache over a real socket, errors with reason codes.</summary>
public sealed class CacheApiTests : IAsyncLifetime
{
    private static readonly TimeSpan Ttl = TimeSpan.FromMinutes(5);

    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("cr-cache-api-");
    private readonly Clock _clock = new();
    private ContentCache _cache = null!;
    private int _seed;

    public Task InitializeAsync()
    {
        _cache = new ContentCache(new ContentCacheOptions { RootDirectory = Path.Combine(_root.FullName, "cache"), MaxTotalBytes = 64L << 20 }, _clock);
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        _cache.Dispose();
        _root.Delete(recursive: true);
        return Task.CompletedTask;
    }

    private Task<Gateway.Cache.CacheEntry> Put(string protocol, string key, int size, TimeSpan? ttl = null, int seed = 0)
    {
        var body = new byte[size];
        // Distinct bodies (so distinct blobs) unless a test asks for a shared one by giving the seed.
        new Random(seed == 0 ? 1000 + Interlocked.Increment(ref _seed) : seed).NextBytes(body);
        return _cache.PutAsync(new CacheKey(protocol, "object", key), new MemoryStream(body), new CacheEntryOptions { TimeToLive = ttl, ContentType = "application/x-test" }, CancellationToken.None);
    }

    private static async Task<List<ListCacheEntriesResponse>> ListAsync(CacheApiHost host, ListCacheEntriesRequest request)
    {
        using var call = host.Connection.Cache.ListCacheEntries(request);
        var messages = new List<ListCacheEntriesResponse>();
        await foreach (var message in call.ResponseStream.ReadAllAsync())
        {
            messages.Add(message);
        }

        return messages;
    }

    [Fact]
    public async Task Stats_report_the_cache_and_no_gateway_when_none_registered_its_counters()
    {
        await Put("npm", "a", 1000);
        await Put("npm", "tag", 200, Ttl);
        var pinned = await Put("oci", "layer", 3000);
        Assert.True(_cache.Pin(pinned.Digest));
        _clock.Advance(Ttl * 2);
        await using var host = await CacheApiHost.StartAsync(_cache, _root.FullName);

        var stats = await host.Connection.Cache.GetCacheStatsAsync(new GetCacheStatsRequest());

        Assert.Equal(_cache.Options.RootDirectory, stats.Directory);
        Assert.Equal((4200L, 64L << 20, 3L, 3L), (stats.UsedBytes, stats.MaxBytes, stats.Blobs, stats.Entries));
        Assert.Equal((1L, 3000L), (stats.PinnedBlobs, stats.PinnedBytes));
        Assert.Equal("s3fifo", stats.EvictionPolicy);
        Assert.Equal(
            [
                new CacheProtocolStats { Protocol = "npm", Entries = 2, Bytes = 1200, FreshEntries = 1, ExpiredEntries = 1 },
                new CacheProtocolStats { Protocol = "oci", Entries = 1, Bytes = 3000, FreshEntries = 1 },
            ],
            stats.Protocols);
        Assert.False(stats.GatewayRunning);
        Assert.Empty(stats.Routes);
    }

    [Fact]
    public async Task Stats_carry_the_gateways_route_counters_when_it_registered_them()
    {
        IReadOnlyList<GatewayRouteCounters> counters =
        [
            new("npm", Hits: 7, Misses: 2, StaleServed: 1, Bypassed: 3, Refused: 4, UpstreamErrors: 5, BytesServed: 12345),
            new("git", 0, 1, 0, 0, 0, 0, 99),
        ];
        await using var host = await CacheApiHost.StartAsync(_cache, _root.FullName, () => counters);

        var stats = await host.Connection.Cache.GetCacheStatsAsync(new GetCacheStatsRequest());

        Assert.True(stats.GatewayRunning);
        Assert.Equal(
            [
                new GatewayRouteStats { Route = "npm", Hits = 7, Misses = 2, StaleServed = 1, Bypassed = 3, Refused = 4, UpstreamErrors = 5, BytesServed = 12345 },
                new GatewayRouteStats { Route = "git", Misses = 1, BytesServed = 99 },
            ],
            stats.Routes);
    }

    [Fact]
    public async Task Entries_stream_newest_first_in_batches_up_to_the_default_limit_with_the_total_first()
    {
        // One body for all: each put still stores and records its entry, without a thousand different files.
        for (var i = 0; i < 1001; i++)
        {
            _clock.Advance(TimeSpan.FromMilliseconds(1));
            await Put(i % 3 == 0 ? "oci" : "npm", $"k{i:d4}", 10, seed: 1);
        }

        await using var host = await CacheApiHost.StartAsync(_cache, _root.FullName);

        var defaults = await ListAsync(host, new ListCacheEntriesRequest());
        Assert.Equal([500, 500], defaults.Select(m => m.Entries.Count));
        Assert.Equal(1001, defaults[0].TotalMatching);
        var keys = defaults.SelectMany(m => m.Entries).Select(e => e.Key).ToList();
        Assert.Equal(Enumerable.Range(1, 1000).Select(i => $"k{1001 - i:d4}"), keys);

        var all = await ListAsync(host, new ListCacheEntriesRequest { Limit = 5000 });
        Assert.Equal([500, 500, 1], all.Select(m => m.Entries.Count));
        Assert.Equal("k0000", all[^1].Entries[0].Key);

        var oci = await ListAsync(host, new ListCacheEntriesRequest { Protocol = "oci", Limit = 3 });
        var only = Assert.Single(oci);
        Assert.Equal(334, only.TotalMatching);
        Assert.Equal(["k0999", "k0996", "k0993"], only.Entries.Select(e => e.Key));
        var first = only.Entries[0];
        Assert.Equal(("oci", "object", "application/x-test", 10L, true, 200), (first.Protocol, first.Kind, first.ContentType, first.SizeBytes, first.Immutable, first.UpstreamStatus));
        Assert.Null(first.ExpiresAt);
        Assert.Equal(Timestamp.FromDateTimeOffset(_clock.GetUtcNow()), first.LastAccessAt); // the shared blob, stored again by the last put
        Assert.StartsWith("sha256:", first.Digest, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_empty_listing_is_one_message_with_a_total_of_zero()
    {
        await using var host = await CacheApiHost.StartAsync(_cache, _root.FullName);
        var messages = await ListAsync(host, new ListCacheEntriesRequest { Protocol = "pypi" });
        Assert.Empty(Assert.Single(messages).Entries);
        Assert.Equal(0, messages[0].TotalMatching);
    }

    [Theory]
    [InlineData("NPM", 0, "a protocol is 1 to 32 characters")]
    [InlineData("npm\u001b[2J", 0, "(got 'npm\\x1b[2J')")]
    [InlineData("", -1, "the limit is 1 to 100000")]
    [InlineData("", 100_001, "the limit is 1 to 100000")]
    public async Task A_bad_listing_request_is_invalid_argument_with_the_reason_code(string protocol, int limit, string message)
    {
        await using var host = await CacheApiHost.StartAsync(_cache, _root.FullName);
        var error = await Assert.ThrowsAsync<RpcException>(() => ListAsync(host, new ListCacheEntriesRequest { Protocol = protocol, Limit = limit }));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.StartsWith("invalid_argument: ", error.Status.Detail, StringComparison.Ordinal);
        Assert.Contains(message, error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Prune_without_a_selector_takes_expired_entries_a_dry_run_first_changes_nothing()
    {
        var expired = await Put("npm", "tag", 400, Ttl);
        var kept = await Put("npm", "tarball", 700);
        _clock.Advance(Ttl * 2);
        await using var host = await CacheApiHost.StartAsync(_cache, _root.FullName);

        var dry = await host.Connection.Cache.PruneCacheAsync(new PruneCacheRequest { DryRun = true });
        Assert.True(dry.DryRun);
        Assert.True(dry.DefaultedToExpired);
        Assert.Equal((1L, 1L, 400L), (dry.RemovedEntries, dry.RemovedBlobs, dry.FreedBytes));
        Assert.Equal("tag", Assert.Single(dry.Removed).Key);
        Assert.Equal(Timestamp.FromDateTimeOffset(expired.ExpiresAt!.Value), dry.Removed[0].ExpiresAt);
        Assert.Equal(CacheFreshness.Stale, _cache.Lookup(expired.Key).Freshness);

        var real = await host.Connection.Cache.PruneCacheAsync(new PruneCacheRequest());
        Assert.False(real.DryRun);
        Assert.Equal(dry.Removed, real.Removed);
        Assert.Equal(CacheFreshness.Missing, _cache.Lookup(expired.Key).Freshness);
        Assert.Equal(CacheFreshness.Fresh, _cache.Lookup(kept.Key).Freshness);
    }

    [Fact]
    public async Task Prune_by_age_and_protocol_and_all_pass_through()
    {
        await Put("npm", "old", 100);
        await Put("oci", "old", 200);
        _clock.Advance(TimeSpan.FromDays(8));
        await Put("npm", "new", 300);
        await using var host = await CacheApiHost.StartAsync(_cache, _root.FullName);

        var aged = await host.Connection.Cache.PruneCacheAsync(new PruneCacheRequest { OlderThan = Duration.FromTimeSpan(TimeSpan.FromDays(7)), Protocol = "npm" });
        Assert.False(aged.DefaultedToExpired);
        Assert.Equal(("npm", "old"), (Assert.Single(aged.Removed).Protocol, aged.Removed[0].Key));

        var all = await host.Connection.Cache.PruneCacheAsync(new PruneCacheRequest { All = true });
        Assert.Equal((2L, 2L, 500L), (all.RemovedEntries, all.RemovedBlobs, all.FreedBytes));
        Assert.Equal(0, _cache.BlobCount);
    }

    public static TheoryData<PruneCacheRequest, string> BadPrunes => new()
    {
        { new PruneCacheRequest { All = true, Expired = true }, "all removes every entry" },
        { new PruneCacheRequest { All = true, OlderThan = Duration.FromTimeSpan(TimeSpan.FromDays(1)) }, "all removes every entry" },
        { new PruneCacheRequest { OlderThan = Duration.FromTimeSpan(TimeSpan.Zero) }, "older_than is more than zero" },
        { new PruneCacheRequest { OlderThan = new Duration { Seconds = -60 } }, "older_than is more than zero" },
        { new PruneCacheRequest { Protocol = "a/b" }, "a protocol is 1 to 32 characters" },
    };

    [Theory]
    [MemberData(nameof(BadPrunes))]
    public async Task A_bad_prune_is_invalid_argument_and_removes_nothing(PruneCacheRequest request, string message)
    {
        await Put("npm", "tag", 10, Ttl);
        _clock.Advance(Ttl * 2);
        await using var host = await CacheApiHost.StartAsync(_cache, _root.FullName);
        var error = await Assert.ThrowsAsync<RpcException>(async () => await host.Connection.Cache.PruneCacheAsync(request));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("invalid_argument: " + message, error.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(1, _cache.BlobCount);
    }

    [Fact]
    public async Task A_closed_cache_answers_unavailable_not_internal()
    {
        await using var host = await CacheApiHost.StartAsync(_cache, _root.FullName);
        _cache.Dispose();
        var error = await Assert.ThrowsAsync<RpcException>(async () => await host.Connection.Cache.GetCacheStatsAsync(new GetCacheStatsRequest()));
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Contains("shutting down", error.Status.Detail, StringComparison.Ordinal);
    }

    private sealed class Clock : TimeProvider
    {
        private DateTimeOffset _now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
