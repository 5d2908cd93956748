using Cleanroom.Gateway.Cache;

namespace Cleanroom.Gateway.Tests;

/// <summary><see cref="ContentCache.Prune"/> on a real cache (SQLite and files).</summary>
public sealed class ContentCachePruneTests : IDisposable
{
    private static readonly TimeSpan Ttl = TimeSpan.FromMinutes(5);

    private readonly Scratch _scratch = new();
    private readonly ManualTimeProvider _clock = new();

    public void Dispose() => _scratch.Dispose();

    private ContentCache Open(long maxTotalBytes = 1 << 20) =>
        new(new ContentCacheOptions { RootDirectory = _scratch.Path, MaxTotalBytes = maxTotalBytes, MaxObjectBytes = maxTotalBytes / 10 }, _clock);

    private static CacheKey Key(string protocol, string name) => new(protocol, "object", name);

    private static Task<CacheEntry> Put(ContentCache cache, string protocol, string name, byte[] body, TimeSpan? ttl = null) =>
        cache.PutAsync(Key(protocol, name), new MemoryStream(body), new CacheEntryOptions { TimeToLive = ttl }, CancellationToken.None);

    private bool BlobFileExists(BlobDigest digest) => File.Exists(Path.Combine(_scratch.Path, "blobs", digest.Hex[..2], digest.Hex));

    private static async Task Read(ContentCache cache, CacheEntry entry)
    {
        await using var stream = cache.OpenRead(entry) ?? throw new InvalidOperationException("the blob is gone");
        await stream.CopyToAsync(Stream.Null);
    }

    [Fact]
    public async Task Without_a_selector_only_expired_entries_go_and_a_blob_stays_while_a_fresh_entry_points_at_it()
    {
        using var cache = Open();
        var shared = TestStreams.Bytes(1000, seed: 1);
        var expiredAlone = await Put(cache, "npm", "packument", TestStreams.Bytes(400, seed: 2), Ttl);
        var expiredShared = await Put(cache, "npm", "tag", shared, Ttl);
        var immutable = await Put(cache, "npm", "tarball", shared);
        _clock.Advance(Ttl + TimeSpan.FromSeconds(1));
        var freshMutable = await Put(cache, "npm", "fresh-tag", TestStreams.Bytes(300, seed: 3), Ttl);

        var result = cache.Prune(new CachePruneOptions());

        Assert.True(result.DefaultedToExpired);
        Assert.False(result.DryRun);
        Assert.Equal(2, result.RemovedEntries);
        Assert.Equal(new[] { expiredAlone, expiredShared }.OrderBy(e => e.Key.Key, StringComparer.Ordinal), result.Listed);
        Assert.Equal((1L, 400L), (result.RemovedBlobs, result.FreedBytes));
        Assert.Equal(CacheFreshness.Missing, cache.Lookup(expiredAlone.Key).Freshness);
        Assert.Equal(CacheFreshness.Missing, cache.Lookup(expiredShared.Key).Freshness);
        Assert.Equal(CacheFreshness.Fresh, cache.Lookup(immutable.Key).Freshness);
        Assert.Equal(CacheFreshness.Fresh, cache.Lookup(freshMutable.Key).Freshness);
        Assert.False(BlobFileExists(expiredAlone.Digest));
        Assert.True(BlobFileExists(immutable.Digest));
        Assert.Null(cache.GetBlob(expiredAlone.Digest));
        Assert.Equal((2, 1300L), (cache.BlobCount, cache.UsedBytes));
    }

    [Fact]
    public async Task A_dry_run_reports_what_the_real_run_then_removes_and_changes_nothing()
    {
        using var cache = Open();
        await Put(cache, "npm", "a", TestStreams.Bytes(100, seed: 1), Ttl);
        await Put(cache, "pypi", "b", TestStreams.Bytes(200, seed: 2), Ttl);
        await Put(cache, "pypi", "c", TestStreams.Bytes(300, seed: 3));
        _clock.Advance(Ttl * 2);
        var files = _scratch.Files("blobs");
        var stats = cache.Statistics();

        var dry = cache.Prune(new CachePruneOptions { DryRun = true });

        Assert.True(dry.DryRun);
        Assert.Equal((2L, 2L, 300L), (dry.RemovedEntries, dry.RemovedBlobs, dry.FreedBytes));
        Assert.Equal(files, _scratch.Files("blobs"));
        Assert.Equal(stats, cache.Statistics() with { Protocols = stats.Protocols });
        Assert.Equal(stats.Protocols, cache.Statistics().Protocols);
        Assert.Equal(3, cache.ListEntries(new CacheEntryQuery()).Entries.Count);

        var real = cache.Prune(new CachePruneOptions());
        Assert.Equal(dry with { DryRun = false }, real with { Listed = dry.Listed });
        Assert.Equal(dry.Listed, real.Listed);
        Assert.Single(_scratch.Files("blobs"));
    }

    [Fact]
    public async Task Older_than_goes_by_the_blobs_last_access_so_a_recently_read_blob_stays()
    {
        using var cache = Open();
        var unread = await Put(cache, "oci", "unread", TestStreams.Bytes(500, seed: 1));
        var read = await Put(cache, "oci", "read", TestStreams.Bytes(600, seed: 2));
        _clock.Advance(TimeSpan.FromDays(6));
        await Read(cache, read);
        _clock.Advance(TimeSpan.FromDays(2));

        var result = cache.Prune(new CachePruneOptions { OlderThan = TimeSpan.FromDays(7) });

        Assert.False(result.DefaultedToExpired);
        Assert.Equal([unread], result.Listed);
        Assert.Equal((1L, 500L), (result.RemovedBlobs, result.FreedBytes));
        Assert.Equal(CacheFreshness.Fresh, cache.Lookup(read.Key).Freshness);
        Assert.False(BlobFileExists(unread.Digest));
    }

    [Fact]
    public async Task All_with_a_protocol_takes_that_protocols_entries_and_keeps_a_blob_another_protocol_still_uses()
    {
        using var cache = Open();
        var shared = TestStreams.Bytes(1000, seed: 1);
        var npmShared = await Put(cache, "npm", "a", shared);
        var npmOwn = await Put(cache, "npm", "b", TestStreams.Bytes(700, seed: 2));
        var ociShared = await Put(cache, "oci", "a", shared);

        var result = cache.Prune(new CachePruneOptions { All = true, Protocol = "npm" });

        Assert.Equal(2, result.RemovedEntries);
        Assert.Equal((1L, 700L), (result.RemovedBlobs, result.FreedBytes));
        Assert.Equal(CacheFreshness.Missing, cache.Lookup(npmShared.Key).Freshness);
        Assert.Equal(CacheFreshness.Missing, cache.Lookup(npmOwn.Key).Freshness);
        Assert.Equal(CacheFreshness.Fresh, cache.Lookup(ociShared.Key).Freshness);
        Assert.True(BlobFileExists(ociShared.Digest));
        Assert.False(BlobFileExists(npmOwn.Digest));
    }

    [Fact]
    public async Task A_pinned_blob_is_never_removed_though_its_entries_go()
    {
        using var cache = Open();
        var pinned = await Put(cache, "oci", "layer", TestStreams.Bytes(800, seed: 1));
        var other = await Put(cache, "oci", "other", TestStreams.Bytes(100, seed: 2));
        Assert.True(cache.Pin(pinned.Digest));

        var result = cache.Prune(new CachePruneOptions { All = true });

        Assert.Equal(2, result.RemovedEntries);
        Assert.Equal((1L, 100L, 1L), (result.RemovedBlobs, result.FreedBytes, result.KeptPinnedBlobs));
        Assert.True(BlobFileExists(pinned.Digest));
        Assert.Equal(1, cache.GetBlob(pinned.Digest)!.PinCount);
        Assert.Equal((1, 800L), (cache.BlobCount, cache.UsedBytes));
        Assert.False(BlobFileExists(other.Digest));

        // Once unpinned, the next prune of everything takes it (it has no entry left).
        Assert.True(cache.Unpin(pinned.Digest));
        var later = cache.Prune(new CachePruneOptions { All = true });
        Assert.Equal((0L, 1L, 800L), (later.RemovedEntries, later.RemovedBlobs, later.FreedBytes));
        Assert.Equal(0, cache.BlobCount);
    }

    [Fact]
    public async Task All_takes_unreferenced_blobs_but_a_protocol_or_expired_selection_leaves_them()
    {
        using var cache = Open();
        var first = await Put(cache, "npm", "a", TestStreams.Bytes(300, seed: 1));
        var replaced = await Put(cache, "npm", "a", TestStreams.Bytes(400, seed: 2)); // the first blob now has no entry
        Assert.NotEqual(first.Digest, replaced.Digest);

        Assert.Equal(0, cache.Prune(new CachePruneOptions()).RemovedBlobs);
        Assert.Equal(0, cache.Prune(new CachePruneOptions { All = true, Protocol = "pypi" }).RemovedBlobs);
        Assert.True(BlobFileExists(first.Digest));

        var result = cache.Prune(new CachePruneOptions { All = true });
        Assert.Equal((1L, 2L, 700L), (result.RemovedEntries, result.RemovedBlobs, result.FreedBytes));
        Assert.DoesNotContain(_scratch.Files("blobs"), f => !f.Contains(".tmp", StringComparison.Ordinal));
        Assert.Equal((0, 0L), (cache.BlobCount, cache.UsedBytes));
    }

    [Fact]
    public async Task The_listing_is_bounded_but_the_counts_cover_everything()
    {
        using var cache = Open();
        for (var i = 0; i < 30; i++)
        {
            _clock.Advance(TimeSpan.FromSeconds(1));
            await Put(cache, "npm", $"k{i:d2}", [(byte)i]);
        }

        var result = cache.Prune(new CachePruneOptions { All = true, MaxListed = 4 });

        Assert.Equal(30, result.RemovedEntries);
        Assert.Equal(30, result.RemovedBlobs);
        Assert.Equal(["k29", "k28", "k27", "k26"], result.Listed.Select(e => e.Key.Key));
    }

    [Fact]
    public async Task Removed_blobs_leave_the_eviction_policy_so_the_budget_is_free_again_and_a_restart_agrees()
    {
        // 10 objects of 1000 bytes fill a 10,000-byte budget; after pruning half, five new ones fit without evicting.
        using (var cache = Open(maxTotalBytes: 10_000))
        {
            var kept = new List<CacheEntry>();
            for (var i = 0; i < 10; i++)
            {
                var entry = await Put(cache, i % 2 == 0 ? "npm" : "oci", $"k{i}", TestStreams.Bytes(1000, seed: i));
                if (i % 2 == 1)
                {
                    kept.Add(entry);
                }
            }

            Assert.Equal(5, cache.Prune(new CachePruneOptions { All = true, Protocol = "npm" }).RemovedBlobs);
            Assert.Equal((5, 5000L), (cache.BlobCount, cache.UsedBytes));
            for (var i = 0; i < 5; i++)
            {
                await Put(cache, "pypi", $"n{i}", TestStreams.Bytes(1000, seed: 100 + i));
            }

            Assert.Equal((10, 10_000L), (cache.BlobCount, cache.UsedBytes));
            Assert.All(kept, e => Assert.Equal(CacheFreshness.Fresh, cache.Lookup(e.Key).Freshness));
        }

        using var reopened = Open(maxTotalBytes: 10_000);
        var stats = reopened.Statistics();
        Assert.Equal((10L, 10_000L, 10L), (stats.BlobCount, stats.UsedBytes, stats.EntryCount));
        Assert.Equal(["oci", "pypi"], stats.Protocols.Select(p => p.Protocol));
    }

    [Fact]
    public async Task Expired_and_older_than_together_take_only_entries_that_are_both()
    {
        using var cache = Open();
        var expiredOld = await Put(cache, "npm", "expired-old", [1], Ttl);
        var freshOld = await Put(cache, "npm", "fresh-old", [2]);
        _clock.Advance(TimeSpan.FromDays(3));
        var expiredRecent = await Put(cache, "npm", "expired-recent", [3], Ttl);
        _clock.Advance(TimeSpan.FromHours(1));

        var result = cache.Prune(new CachePruneOptions { ExpiredOnly = true, OlderThan = TimeSpan.FromDays(2) });

        Assert.Equal([expiredOld], result.Listed);
        Assert.Equal(CacheFreshness.Fresh, cache.Lookup(freshOld.Key).Freshness);
        Assert.Equal(CacheFreshness.Stale, cache.Lookup(expiredRecent.Key).Freshness);
    }

    public static TheoryData<CachePruneOptions> BadOptions => new()
    {
        new CachePruneOptions { All = true, ExpiredOnly = true },
        new CachePruneOptions { All = true, OlderThan = TimeSpan.FromDays(1) },
        new CachePruneOptions { OlderThan = TimeSpan.Zero },
        new CachePruneOptions { OlderThan = TimeSpan.FromDays(40_000) },
        new CachePruneOptions { Protocol = "Not A Protocol" },
        new CachePruneOptions { MaxListed = -1 },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public async Task Contradictory_or_out_of_range_options_are_refused_and_nothing_goes(CachePruneOptions options)
    {
        using var cache = Open();
        await Put(cache, "npm", "a", [1], Ttl);
        _clock.Advance(Ttl * 2);
        Assert.ThrowsAny<ArgumentException>(() => cache.Prune(options));
        Assert.Single(cache.ListEntries(new CacheEntryQuery()).Entries);
    }
}
