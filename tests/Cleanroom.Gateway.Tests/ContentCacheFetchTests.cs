using Cleanroom.Gateway.Cache;

namespace Cleanroom.Gateway.Tests;

public sealed class ContentCacheFetchTests : IDisposable
{
    private readonly Scratch _scratch = new();
    private readonly ManualTimeProvider _clock = new();

    public void Dispose() => _scratch.Dispose();

    private ContentCache Open() => new(new ContentCacheOptions { RootDirectory = _scratch.Path, MaxTotalBytes = 1 << 24, MaxObjectBytes = 1 << 20 }, _clock);

    private static readonly CacheKey Key = new("npm", "tarball", "left-pad/-/left-pad-1.3.0.tgz");

    private static async Task<byte[]> ReadAll(ContentCache cache, CacheEntry entry)
    {
        await using var stream = cache.OpenRead(entry) ?? throw new InvalidOperationException("the blob is gone");
        var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }

    [Fact]
    public async Task A_hundred_concurrent_misses_make_one_fetch_and_all_read_the_stored_bytes()
    {
        using var cache = Open();
        var bytes = TestStreams.Bytes(200_000);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var fetches = 0;

        async Task<CacheFill> Fetch(CancellationToken token)
        {
            Interlocked.Increment(ref fetches);
            await release.Task.WaitAsync(token);
            return new CacheFill(new MemoryStream(bytes), CacheEntryOptions.Immutable);
        }

        var joined = 0;
        var callers = Enumerable.Range(0, 100)
            .Select(_ => Task.Run(async () =>
            {
                // The call returns once the caller has looked up and joined (or started) the flight.
                var pending = cache.GetOrFetchAsync(Key, Fetch, CancellationToken.None);
                Interlocked.Increment(ref joined);
                var result = await pending;
                return (result.Outcome, Bytes: await ReadAll(cache, result.Entry));
            }))
            .ToList();
        await SingleFlightTests.WaitUntil(() => Volatile.Read(ref joined) == 100);
        release.SetResult();

        var results = await Task.WhenAll(callers);
        Assert.Equal(1, fetches);
        Assert.All(results, r => Assert.Equal(bytes, r.Bytes));
        Assert.All(results, r => Assert.Equal(CacheOutcome.Fetched, r.Outcome));

        var again = await cache.GetOrFetchAsync(Key, _ => throw new InvalidOperationException("a hit must not fetch"), CancellationToken.None);
        Assert.Equal(CacheOutcome.Hit, again.Outcome);
    }

    [Fact]
    public async Task A_cancelled_caller_leaves_the_fetch_running_for_the_others()
    {
        using var cache = Open();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var impatient = new CancellationTokenSource();

        async Task<CacheFill> Fetch(CancellationToken token)
        {
            started.TrySetResult();
            await release.Task.WaitAsync(token);
            return new CacheFill(new MemoryStream([1, 2, 3]), CacheEntryOptions.Immutable);
        }

        var gaveUp = cache.GetOrFetchAsync(Key, Fetch, impatient.Token);
        await started.Task;
        var patient = cache.GetOrFetchAsync(Key, Fetch, CancellationToken.None);
        await impatient.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => gaveUp);
        release.SetResult();
        var result = await patient;
        Assert.Equal([1, 2, 3], await ReadAll(cache, result.Entry));
    }

    [Fact]
    public async Task A_failed_fetch_reaches_every_waiter_and_the_next_call_fetches_again()
    {
        using var cache = Open();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var fetches = 0;

        async Task<CacheFill> Failing(CancellationToken token)
        {
            Interlocked.Increment(ref fetches);
            await release.Task.WaitAsync(token);
            throw new HttpRequestException("upstream down");
        }

        var waiters = Enumerable.Range(0, 20).Select(_ => cache.GetOrFetchAsync(Key, Failing, CancellationToken.None)).ToList();
        release.SetResult();
        foreach (var waiter in waiters)
        {
            await Assert.ThrowsAsync<HttpRequestException>(() => waiter);
        }

        Assert.Equal(1, fetches);
        Assert.Equal(CacheFreshness.Missing, cache.Lookup(Key).Freshness);

        var result = await cache.GetOrFetchAsync(Key, _ => Task.FromResult(new CacheFill(new MemoryStream([5]), CacheEntryOptions.Immutable)), CancellationToken.None);
        Assert.Equal(CacheOutcome.Fetched, result.Outcome);
    }

    [Fact]
    public async Task A_stale_entry_is_served_flagged_when_the_upstream_fails_and_refreshed_when_it_answers()
    {
        using var cache = Open();
        var ttl = new CacheEntryOptions { TimeToLive = TimeSpan.FromMinutes(5), ContentType = "application/json" };
        await cache.GetOrFetchAsync(Key, _ => Task.FromResult(new CacheFill(new MemoryStream("v1"u8.ToArray()), ttl)), CancellationToken.None);
        _clock.Advance(TimeSpan.FromMinutes(10));

        var stale = await cache.GetOrFetchAsync(Key, _ => throw new HttpRequestException("upstream down"), CancellationToken.None);

        Assert.Equal(CacheOutcome.Stale, stale.Outcome);
        Assert.IsType<HttpRequestException>(stale.UpstreamFailure);
        Assert.Equal("v1"u8.ToArray(), await ReadAll(cache, stale.Entry));

        var fresh = await cache.GetOrFetchAsync(Key, _ => Task.FromResult(new CacheFill(new MemoryStream("v2"u8.ToArray()), ttl)), CancellationToken.None);
        Assert.Equal(CacheOutcome.Fetched, fresh.Outcome);
        Assert.Equal("v2"u8.ToArray(), await ReadAll(cache, fresh.Entry));
        Assert.Equal(CacheFreshness.Fresh, cache.Lookup(Key).Freshness);
    }

    [Fact]
    public async Task A_corrupt_blob_is_detected_on_read_removed_and_fetched_again()
    {
        using var cache = Open();
        var bytes = TestStreams.Bytes(50_000);
        var fetches = 0;
        Task<CacheFill> Fetch(CancellationToken token)
        {
            fetches++;
            return Task.FromResult(new CacheFill(new MemoryStream(bytes), CacheEntryOptions.Immutable));
        }

        var first = await cache.GetOrFetchAsync(Key, Fetch, CancellationToken.None);
        var path = cache.Store.PathOf(first.Entry.Digest);
        var damaged = (byte[])bytes.Clone();
        damaged[25_000] ^= 1;
        await File.WriteAllBytesAsync(path, damaged);

        await Assert.ThrowsAsync<CacheIntegrityException>(() => ReadAll(cache, first.Entry));
        Assert.Equal(CacheFreshness.Missing, cache.Lookup(Key).Freshness);
        Assert.Null(cache.GetBlob(first.Entry.Digest));

        var second = await cache.GetOrFetchAsync(Key, Fetch, CancellationToken.None);
        Assert.Equal(CacheOutcome.Fetched, second.Outcome);
        Assert.Equal(2, fetches);
        Assert.Equal(bytes, await ReadAll(cache, second.Entry));
    }

    [Fact]
    public async Task A_fetch_whose_body_does_not_match_its_pinned_digest_is_not_cached()
    {
        using var cache = Open();
        var options = new CacheEntryOptions { ExpectedDigest = BlobDigest.Of("what was pinned"u8) };

        await Assert.ThrowsAsync<CacheIntegrityException>(() =>
            cache.GetOrFetchAsync(Key, _ => Task.FromResult(new CacheFill(new MemoryStream("something else"u8.ToArray()), options)), CancellationToken.None));

        Assert.Equal(CacheFreshness.Missing, cache.Lookup(Key).Freshness);
        Assert.Empty(_scratch.Files("blobs"));
    }

    [Fact]
    public async Task Serving_a_fetched_blob_is_not_a_hit_so_s3_fifo_still_evicts_one_hit_wonders()
    {
        // 100 kB budget: the small queue holds 10 kB, and the 2 kB fillers below push it over several times.
        using var cache = new ContentCache(new ContentCacheOptions { RootDirectory = _scratch.Path, MaxTotalBytes = 100_000, MaxObjectBytes = 10_000 }, _clock);
        async Task<CacheResult> FetchAndServe(string name, int seed)
        {
            var result = await cache.GetOrFetchAsync(
                new CacheKey("npm", "tarball", name),
                _ => Task.FromResult(new CacheFill(new MemoryStream(TestStreams.Bytes(2_000, seed)), CacheEntryOptions.Immutable)),
                CancellationToken.None);
            await using var stream = cache.OpenRead(result) ?? throw new InvalidOperationException("the blob is gone");
            await stream.CopyToAsync(Stream.Null);
            return result;
        }

        var once = await FetchAndServe("once", seed: 100);
        var twice = await FetchAndServe("twice", seed: 101);
        var again = await FetchAndServe("twice", seed: 101);
        Assert.Equal(CacheOutcome.Fetched, once.Outcome);
        Assert.Equal(CacheOutcome.Hit, again.Outcome);

        for (var i = 0; i < 60; i++)
        {
            await cache.PutAsync(new CacheKey("npm", "tarball", $"filler{i}"), new MemoryStream(TestStreams.Bytes(2_000, seed: i)), CacheEntryOptions.Immutable, CancellationToken.None);
        }

        Assert.Equal(CacheFreshness.Missing, cache.Lookup(once.Entry.Key).Freshness);
        Assert.Equal(CacheFreshness.Fresh, cache.Lookup(twice.Entry.Key).Freshness);
    }

    [Fact]
    public async Task Dispose_waits_for_a_running_fill_which_then_stores_nothing()
    {
        var cache = Open();
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var fetched = cache.GetOrFetchAsync(
            Key,
            _ => Task.FromResult(new CacheFill(TestStreams.EndingWhenReleased(TestStreams.Bytes(5_000), reached, release.Task), CacheEntryOptions.Immutable)),
            CancellationToken.None);
        await reached.Task;

        // The body is half in when the cache goes away; it finishes only after disposal has begun.
        var disposing = Task.Run(cache.Dispose);
        await SingleFlightTests.WaitUntil(() => Throws<ObjectDisposedException>(() => cache.Lookup(Key)));
        Assert.False(disposing.IsCompleted);
        release.SetResult();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => fetched);
        await disposing.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Empty(_scratch.Files("blobs"));
    }

    [Fact]
    public async Task A_disposed_cache_refuses_puts_and_reads()
    {
        var cache = Open();
        var entry = await cache.PutAsync(Key, new MemoryStream([1, 2, 3]), CacheEntryOptions.Immutable, CancellationToken.None);
        cache.Dispose();
        cache.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => cache.PutAsync(Key, new MemoryStream([4]), CacheEntryOptions.Immutable, CancellationToken.None));
        Assert.Throws<ObjectDisposedException>(() => cache.OpenRead(entry));
    }

    private static bool Throws<TException>(Action action)
        where TException : Exception
    {
        try
        {
            action();
            return false;
        }
        catch (TException)
        {
            return true;
        }
    }
}
