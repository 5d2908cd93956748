using Cleanroom.Gateway.Cache;
using Cleanroom.Gateway.Cache.Eviction;

namespace Cleanroom.Gateway.Tests;

/// <summary>
/// The hit path keeps its state in memory (entries it has looked up, access times not yet written): what operators
/// and the eviction order see must still be exactly what happened.
/// </summary>
public sealed class ContentCacheHotPathTests : IDisposable
{
    private readonly Scratch _scratch = new();
    private readonly ManualTimeProvider _clock = new();

    public void Dispose() => _scratch.Dispose();

    // LRU, so which blob an over-budget put evicts is certain.
    private ContentCache Open(long maxTotalBytes = 1 << 20) => new(
        new ContentCacheOptions
        {
            RootDirectory = _scratch.Path,
            MaxTotalBytes = maxTotalBytes,
            MaxObjectBytes = maxTotalBytes / 10,
            EvictionPolicy = EvictionPolicyKind.Lru,
        },
        _clock);

    private static CacheKey Key(string name) => new("test", "object", name);

    private static async Task ReadAll(ContentCache cache, CacheEntry entry)
    {
        await using var stream = cache.OpenRead(entry) ?? throw new InvalidOperationException("the blob is gone");
        await stream.CopyToAsync(Stream.Null);
    }

    [Fact]
    public async Task A_read_moves_the_blobs_last_access_as_seen_by_queries_and_after_a_restart()
    {
        CacheEntry entry;
        DateTimeOffset readAt;
        using (var cache = Open())
        {
            entry = await cache.PutAsync(Key("a"), new MemoryStream(TestStreams.Bytes(100)), CacheEntryOptions.Immutable, CancellationToken.None);
            _clock.Advance(TimeSpan.FromSeconds(1));
            readAt = _clock.GetUtcNow();
            await ReadAll(cache, entry);

            Assert.Equal(readAt, cache.ListEntries(new CacheEntryQuery()).Entries.Single().BlobLastAccess);
            Assert.Equal(readAt, cache.GetBlob(entry.Digest)!.LastAccess);

            _clock.Advance(TimeSpan.FromSeconds(1));
            readAt = _clock.GetUtcNow();
            await ReadAll(cache, entry);
        }

        // The second read was still pending when the cache closed: disposal wrote it.
        using var reopened = Open();
        Assert.Equal(readAt, reopened.GetBlob(entry.Digest)!.LastAccess);
    }

    [Fact]
    public async Task An_entry_that_prune_removed_is_missing_even_after_it_was_looked_up()
    {
        using var cache = Open();
        await cache.PutAsync(Key("old"), new MemoryStream([1, 2, 3]), CacheEntryOptions.Immutable, CancellationToken.None);
        Assert.Equal(CacheFreshness.Fresh, cache.Lookup(Key("old")).Freshness);

        cache.Prune(new CachePruneOptions { All = true });

        Assert.Equal(CacheFreshness.Missing, cache.Lookup(Key("old")).Freshness);
    }

    [Fact]
    public async Task An_evicted_entry_stays_missing_when_another_key_stores_the_same_bytes_again()
    {
        // Room for eleven 9 KiB blobs: the twelfth put evicts the least recently used, the first.
        using var cache = Open(maxTotalBytes: 100 << 10);
        var shared = TestStreams.Bytes(9 << 10);
        await cache.PutAsync(Key("first"), new MemoryStream(shared), CacheEntryOptions.Immutable, CancellationToken.None);
        Assert.Equal(CacheFreshness.Fresh, cache.Lookup(Key("first")).Freshness);
        for (var i = 0; i < 11; i++)
        {
            await cache.PutAsync(Key("filler" + i), new MemoryStream(TestStreams.Bytes(9 << 10, seed: i + 2)), CacheEntryOptions.Immutable, CancellationToken.None);
        }

        Assert.Equal(CacheFreshness.Missing, cache.Lookup(Key("first")).Freshness);

        // The same bytes come back under another key: the evicted key's entry row is gone and must stay gone.
        await cache.PutAsync(Key("second"), new MemoryStream(shared), CacheEntryOptions.Immutable, CancellationToken.None);

        Assert.Equal(CacheFreshness.Fresh, cache.Lookup(Key("second")).Freshness);
        Assert.Equal(CacheFreshness.Missing, cache.Lookup(Key("first")).Freshness);
    }
}
