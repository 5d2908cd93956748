using Cleanroom.Gateway.Cache;
using Cleanroom.Gateway.Cache.Eviction;

namespace Cleanroom.Gateway.Tests;

public sealed class ContentCacheTests : IDisposable
{
    private readonly Scratch _scratch = new();
    private readonly ManualTimeProvider _clock = new();

    public void Dispose() => _scratch.Dispose();

    private ContentCache Open(long maxTotalBytes = 1 << 20, EvictionPolicyKind policy = EvictionPolicyKind.S3Fifo) =>
        new(new ContentCacheOptions
        {
            RootDirectory = _scratch.Path,
            MaxTotalBytes = maxTotalBytes,
            MaxObjectBytes = Math.Min(maxTotalBytes / 10, 1 << 20),
            EvictionPolicy = policy,
        }, _clock);

    private static CacheKey Key(string name) => new("test", "object", name);

    private static async Task<byte[]> ReadAll(ContentCache cache, CacheEntry entry)
    {
        await using var stream = cache.OpenRead(entry) ?? throw new InvalidOperationException("the blob is gone");
        var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }

    [Fact]
    public async Task A_put_is_found_fresh_and_reads_back()
    {
        using var cache = Open();
        var bytes = TestStreams.Bytes(5000);

        var entry = await cache.PutAsync(Key("a"), new MemoryStream(bytes), new CacheEntryOptions { ContentType = "application/octet-stream", ETag = "\"v1\"" }, CancellationToken.None);

        var lookup = cache.Lookup(Key("a"));
        Assert.Equal(CacheFreshness.Fresh, lookup.Freshness);
        Assert.Equal(entry, lookup.Entry);
        Assert.True(entry.IsImmutable);
        Assert.Equal(bytes, await ReadAll(cache, entry));
        Assert.Equal(CacheFreshness.Missing, cache.Lookup(Key("b")).Freshness);
    }

    [Fact]
    public async Task A_mutable_entry_goes_stale_after_its_ttl_and_an_immutable_one_never_does()
    {
        using var cache = Open();
        await cache.PutAsync(Key("tag"), new MemoryStream([1]), new CacheEntryOptions { TimeToLive = TimeSpan.FromMinutes(5) }, CancellationToken.None);
        await cache.PutAsync(Key("digest"), new MemoryStream([2]), CacheEntryOptions.Immutable, CancellationToken.None);

        _clock.Advance(TimeSpan.FromMinutes(4));
        Assert.Equal(CacheFreshness.Fresh, cache.Lookup(Key("tag")).Freshness);

        _clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(CacheFreshness.Stale, cache.Lookup(Key("tag")).Freshness);
        Assert.Equal(CacheFreshness.Fresh, cache.Lookup(Key("digest")).Freshness);

        _clock.Advance(TimeSpan.FromDays(3650));
        Assert.Equal(CacheFreshness.Fresh, cache.Lookup(Key("digest")).Freshness);
    }

    [Fact]
    public async Task Entries_and_blobs_survive_a_reopen()
    {
        var bytes = TestStreams.Bytes(3000);
        using (var cache = Open())
        {
            var entry = await cache.PutAsync(Key("a"), new MemoryStream(bytes), new CacheEntryOptions { ContentType = "text/plain", UpstreamStatus = 203 }, CancellationToken.None);
            Assert.True(cache.Pin(entry.Digest));
        }

        using (var cache = Open())
        {
            var lookup = cache.Lookup(Key("a"));
            Assert.Equal(CacheFreshness.Fresh, lookup.Freshness);
            Assert.Equal("text/plain", lookup.Entry!.ContentType);
            Assert.Equal(203, lookup.Entry.UpstreamStatus);
            Assert.Equal(bytes, await ReadAll(cache, lookup.Entry));
            Assert.Equal(1, cache.BlobCount);
            Assert.Equal(3000, cache.UsedBytes);
            var blob = cache.GetBlob(lookup.Entry.Digest)!;
            Assert.Equal(1, blob.PinCount);
            Assert.Equal(1, blob.RefCount);
        }
    }

    [Fact]
    public async Task A_reopen_drops_rows_without_files_and_files_without_rows()
    {
        CacheEntry kept, lost;
        using (var cache = Open())
        {
            kept = await cache.PutAsync(Key("kept"), new MemoryStream([1]), CacheEntryOptions.Immutable, CancellationToken.None);
            lost = await cache.PutAsync(Key("lost"), new MemoryStream([2]), CacheEntryOptions.Immutable, CancellationToken.None);
            File.Delete(cache.Store.PathOf(lost.Digest));
        }

        var orphan = new BlobStore(_scratch.Path, 100);
        var stray = await orphan.PutAsync(new MemoryStream([3]), null, CancellationToken.None);

        using (var cache = Open())
        {
            Assert.Equal(CacheFreshness.Fresh, cache.Lookup(Key("kept")).Freshness);
            Assert.Equal(CacheFreshness.Missing, cache.Lookup(Key("lost")).Freshness);
            Assert.Null(cache.GetBlob(lost.Digest));
            Assert.False(cache.Store.Contains(stray.Digest));
            Assert.Equal(1, cache.BlobCount);
        }
    }

    [Theory]
    [InlineData(EvictionPolicyKind.S3Fifo)]
    [InlineData(EvictionPolicyKind.Lru)]
    public async Task A_put_over_budget_evicts_blob_files_rows_and_entries(EvictionPolicyKind policy)
    {
        using var cache = Open(maxTotalBytes: 30_000, policy);
        var entries = new List<CacheEntry>();
        for (var i = 0; i < 11; i++)
        {
            entries.Add(await cache.PutAsync(Key($"k{i}"), new MemoryStream(TestStreams.Bytes(3000, seed: i)), CacheEntryOptions.Immutable, CancellationToken.None));
        }

        Assert.True(cache.UsedBytes <= 30_000);
        Assert.Equal(10, cache.BlobCount);
        var first = entries[0];
        Assert.Equal(CacheFreshness.Missing, cache.Lookup(Key("k0")).Freshness);
        Assert.False(cache.Store.Contains(first.Digest));
        Assert.Null(cache.GetBlob(first.Digest));
        Assert.Null(cache.OpenRead(first));
        Assert.Equal(10, _scratch.Files("blobs").Count);
    }

    [Fact]
    public async Task An_eviction_cannot_slip_between_the_policy_check_and_the_open()
    {
        using var cache = Open(maxTotalBytes: 30_000);
        var bytes = TestStreams.Bytes(3000, seed: 100);
        var entry = await cache.PutAsync(Key("x"), new MemoryStream(bytes), CacheEntryOptions.Immutable, CancellationToken.None);
        for (var i = 0; i < 9; i++)
        {
            await cache.PutAsync(Key($"k{i}"), new MemoryStream(TestStreams.Bytes(3000, seed: i)), CacheEntryOptions.Immutable, CancellationToken.None);
        }

        // The cache is full and x, never read, is the next to go. A put racing the open would evict it; it has to wait
        // (the hook gives it 2 s, ample for a put when nothing blocks it).
        Task? racer = null;
        cache.Store.OpeningForRead = digest =>
        {
            cache.Store.OpeningForRead = null;
            racer = Task.Run(() => cache.PutAsync(Key("k9"), new MemoryStream(TestStreams.Bytes(3000, seed: 9)), CacheEntryOptions.Immutable, CancellationToken.None));
            _ = racer.Wait(TimeSpan.FromSeconds(2));
        };

        await using (var stream = cache.OpenRead(entry, countAsHit: false))
        {
            Assert.NotNull(stream);
            await racer!;
            var copy = new MemoryStream();
            await stream.CopyToAsync(copy);
            Assert.Equal(bytes, copy.ToArray());
        }

        Assert.Equal(CacheFreshness.Missing, cache.Lookup(Key("x")).Freshness);
    }

    [Fact]
    public async Task A_pinned_blob_is_never_evicted()
    {
        using var cache = Open(maxTotalBytes: 30_000);
        var pinned = await cache.PutAsync(Key("pinned"), new MemoryStream(TestStreams.Bytes(3000, seed: 100)), CacheEntryOptions.Immutable, CancellationToken.None);
        Assert.True(cache.Pin(pinned.Digest));

        for (var i = 0; i < 20; i++)
        {
            await cache.PutAsync(Key($"k{i}"), new MemoryStream(TestStreams.Bytes(3000, seed: i + 1)), CacheEntryOptions.Immutable, CancellationToken.None);
        }

        Assert.Equal(CacheFreshness.Fresh, cache.Lookup(Key("pinned")).Freshness);
        Assert.True(cache.Store.Contains(pinned.Digest));

        // Unpinned it can go. It sits in S3-FIFO's main queue, which one-hit wonders never reach, so the evicted
        // blobs come back: as ghosts they go straight to main, and main has to make room.
        Assert.True(cache.Unpin(pinned.Digest));
        for (var i = 0; i < 20; i++)
        {
            await cache.PutAsync(Key($"k{i}"), new MemoryStream(TestStreams.Bytes(3000, seed: i + 1)), CacheEntryOptions.Immutable, CancellationToken.None);
        }

        Assert.Equal(CacheFreshness.Missing, cache.Lookup(Key("pinned")).Freshness);
    }

    [Fact]
    public async Task Two_keys_with_the_same_bytes_share_one_blob()
    {
        using var cache = Open();
        var a = await cache.PutAsync(Key("a"), new MemoryStream([9, 9]), CacheEntryOptions.Immutable, CancellationToken.None);
        var b = await cache.PutAsync(Key("b"), new MemoryStream([9, 9]), CacheEntryOptions.Immutable, CancellationToken.None);

        Assert.Equal(a.Digest, b.Digest);
        Assert.Equal(1, cache.BlobCount);
        Assert.Equal(2, cache.GetBlob(a.Digest)!.RefCount);
    }

    [Fact]
    public async Task A_put_with_the_wrong_expected_digest_stores_nothing()
    {
        using var cache = Open();

        await Assert.ThrowsAsync<CacheIntegrityException>(() => cache.PutAsync(
            Key("a"), new MemoryStream([1, 2, 3]), new CacheEntryOptions { ExpectedDigest = BlobDigest.Of([4]) }, CancellationToken.None));

        Assert.Equal(CacheFreshness.Missing, cache.Lookup(Key("a")).Freshness);
        Assert.Equal(0, cache.BlobCount);
        Assert.Empty(_scratch.Files("blobs"));
    }

    [Fact]
    public async Task A_put_past_the_object_bound_stores_nothing()
    {
        using var cache = Open();

        await Assert.ThrowsAsync<ObjectTooLargeException>(() => cache.PutAsync(Key("a"), TestStreams.Endless(), CacheEntryOptions.Immutable, CancellationToken.None));

        Assert.Equal(0, cache.BlobCount);
        Assert.Empty(_scratch.Files("blobs"));
    }
}
