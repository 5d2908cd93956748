using Cleanroom.Gateway.Cache;

namespace Cleanroom.Gateway.Tests;

/// <summary><see cref="ContentCache.Statistics"/> and <see cref="ContentCache.ListEntries"/> on a real cache (SQLite and files).</summary>
public sealed class ContentCacheQueryTests : IDisposable
{
    private readonly Scratch _scratch = new();
    private readonly ManualTimeProvider _clock = new();

    public void Dispose() => _scratch.Dispose();

    private ContentCache Open() => new(new ContentCacheOptions { RootDirectory = _scratch.Path, MaxTotalBytes = 1 << 20, MaxObjectBytes = 1 << 16 }, _clock);

    private static Task<CacheEntry> Put(ContentCache cache, string protocol, string key, byte[] body, TimeSpan? ttl = null) =>
        cache.PutAsync(new CacheKey(protocol, "object", key), new MemoryStream(body), new CacheEntryOptions { TimeToLive = ttl, ContentType = "application/x-test" }, CancellationToken.None);

    [Fact]
    public void An_empty_cache_reports_zeros_and_its_budget()
    {
        using var cache = Open();
        var stats = cache.Statistics();
        Assert.Equal((0L, 0L, 0L, 0L, 0L), (stats.UsedBytes, stats.BlobCount, stats.EntryCount, stats.PinnedBlobs, stats.PinnedBytes));
        Assert.Equal(1L << 20, stats.MaxBytes);
        Assert.Equal(1L << 16, stats.MaxObjectBytes);
        Assert.Empty(stats.Protocols);
        Assert.Empty(cache.ListEntries(new CacheEntryQuery()).Entries);
    }

    [Fact]
    public async Task Statistics_count_blobs_entries_pins_and_fresh_and_expired_entries_per_protocol()
    {
        using var cache = Open();
        var shared = TestStreams.Bytes(1000, seed: 1);
        await Put(cache, "npm", "a", shared);
        await Put(cache, "npm", "b", shared); // the same bytes: one blob, two entries
        await Put(cache, "npm", "tag", TestStreams.Bytes(200, seed: 2), TimeSpan.FromMinutes(5));
        var pinned = await Put(cache, "oci", "layer", TestStreams.Bytes(3000, seed: 3));
        Assert.True(cache.Pin(pinned.Digest));
        _clock.Advance(TimeSpan.FromMinutes(6));

        var stats = cache.Statistics();
        Assert.Equal(3, stats.BlobCount);
        Assert.Equal(4200, stats.UsedBytes);
        Assert.Equal(4, stats.EntryCount);
        Assert.Equal((1L, 3000L), (stats.PinnedBlobs, stats.PinnedBytes));
        Assert.Equal(
            [new CacheProtocolStatistics("npm", 3, 2200, 2, 1), new CacheProtocolStatistics("oci", 1, 3000, 1, 0)],
            stats.Protocols);
    }

    [Fact]
    public async Task Entries_are_listed_newest_first_with_their_blobs_last_access()
    {
        using var cache = Open();
        var old = await Put(cache, "npm", "old", [1]);
        _clock.Advance(TimeSpan.FromMinutes(1));
        var tag = await Put(cache, "oci", "tag", [2], TimeSpan.FromMinutes(5));
        _clock.Advance(TimeSpan.FromMinutes(1));
        var newest = await Put(cache, "npm", "newest", [3]);
        _clock.Advance(TimeSpan.FromMinutes(1));
        await using (var read = cache.OpenRead(old)!)
        {
            await read.CopyToAsync(Stream.Null);
        }

        var listing = cache.ListEntries(new CacheEntryQuery());
        Assert.Equal([newest, tag, old], listing.Entries.Select(e => e.Entry));
        Assert.Equal(3, listing.TotalMatching);
        Assert.False(listing.HasMore);
        Assert.Equal(_clock.GetUtcNow(), listing.Entries[2].BlobLastAccess);
        Assert.Equal(newest.StoredAt, listing.Entries[0].BlobLastAccess);
        Assert.Equal(tag.StoredAt + TimeSpan.FromMinutes(5), listing.Entries[1].Entry.ExpiresAt);

        var npm = cache.ListEntries(new CacheEntryQuery { Protocol = "npm" });
        Assert.Equal([newest, old], npm.Entries.Select(e => e.Entry));
        Assert.Equal(2, npm.TotalMatching);
        Assert.Empty(cache.ListEntries(new CacheEntryQuery { Protocol = "pypi" }).Entries);
    }

    [Fact]
    public async Task A_limited_listing_says_more_follow_and_pages_cover_every_entry_once_even_with_equal_times()
    {
        using var cache = Open();
        var stored = new List<CacheEntry>();
        for (var i = 0; i < 25; i++)
        {
            // Five entries per instant: the order falls back on the key, and paging must not skip or repeat a tie.
            if (i % 5 == 0)
            {
                _clock.Advance(TimeSpan.FromSeconds(1));
            }

            stored.Add(await Put(cache, i % 2 == 0 ? "npm" : "pypi", $"k{i:d2}", [(byte)i]));
        }

        var first = cache.ListEntries(new CacheEntryQuery { Limit = 7 });
        Assert.Equal(7, first.Entries.Count);
        Assert.True(first.HasMore);
        Assert.Equal(25, first.TotalMatching);

        var seen = new List<CacheEntry>(first.Entries.Select(e => e.Entry));
        var page = first;
        while (page.HasMore)
        {
            page = cache.ListEntries(new CacheEntryQuery { Limit = 7, After = page.Entries[^1].Entry });
            Assert.Null(page.TotalMatching);
            seen.AddRange(page.Entries.Select(e => e.Entry));
        }

        var expected = stored.OrderByDescending(e => e.StoredAt).ThenBy(e => e.Key.Protocol, StringComparer.Ordinal).ThenBy(e => e.Key.Key, StringComparer.Ordinal);
        Assert.Equal(expected, seen);
    }

    [Theory]
    [InlineData("NPM", 10)]
    [InlineData("npm|x", 10)]
    [InlineData("", 10)]
    [InlineData(null, 0)]
    [InlineData(null, CacheEntryQuery.MaxLimit + 1)]
    public void A_bad_protocol_or_limit_is_refused(string? protocol, int limit)
    {
        using var cache = Open();
        Assert.ThrowsAny<ArgumentException>(() => cache.ListEntries(new CacheEntryQuery { Protocol = protocol, Limit = limit }));
    }

    [Fact]
    public async Task A_key_with_hostile_characters_lists_as_it_was_stored()
    {
        using var cache = Open();
        const string Key = "evil/\u202etitle/\u2028pkg-1.0.tgz";
        var entry = await Put(cache, "npm", Key, [9]);
        Assert.Equal(Key, Assert.Single(cache.ListEntries(new CacheEntryQuery()).Entries).Entry.Key.Key);
        Assert.Equal(entry, cache.ListEntries(new CacheEntryQuery()).Entries[0].Entry);
    }
}
