using Cleanroom.Gateway.Cache.Eviction;

namespace Cleanroom.Gateway.Cache;

/// <summary>
/// The gateway's content cache: keys (<c>protocol|kind|key</c>) map through SQLite metadata to content-addressed
/// blobs, bounded in total bytes by an eviction policy (S3-FIFO unless told otherwise) that runs inline when a put
/// goes over budget. Misses for the same key share one upstream fetch. Reads verify the blob as they stream; a corrupt
/// blob is removed with its entries so the next request fetches it again.
/// </summary>
/// <remarks>
/// One lock covers the policy and every change to which blobs exist (commit, evict, forget), so a lookup never
/// answers with a blob that eviction has decided to delete; a read opens its file under it too. Streaming a body in or
/// out happens outside it.
/// </remarks>
public sealed partial class ContentCache : IDisposable
{
    private const string DatabaseName = "metadata.db";

    private readonly BlobStore _store;
    private readonly CacheMetadata _metadata;
    private readonly IEvictionPolicy<BlobDigest> _policy;
    private readonly SingleFlight<CacheKey, CacheEntry> _flights;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();

    // Reads record their access time here, not in SQLite: a write per cache hit would cost more than the hit. Flushed
    // in one transaction when it grows or ages, before every query that orders or filters by access time, and on
    // disposal; a crash loses at most a few seconds of access times (only eviction order after a restart uses them).
    private readonly Dictionary<BlobDigest, DateTimeOffset> _pendingAccesses = [];
    private readonly EntryMemo _memo = new(MemoCapacity);
    private DateTimeOffset _accessesFlushedAt;

    private const int MaxPendingAccesses = 1024;
    private const int MemoCapacity = 16_384;

    private static readonly TimeSpan AccessFlushInterval = TimeSpan.FromSeconds(5);

    /// <summary>How long disposal waits for running fetches to stop before it closes the metadata anyway.</summary>
    private static readonly TimeSpan DisposeWait = TimeSpan.FromSeconds(10);

    // Set under _gate; every metadata use checks it under _gate, so none can follow the connection's closing.
    private bool _disposed;

    /// <summary>Opens (or creates) the cache and reconciles the metadata with the files on disk.</summary>
    /// <param name="options">Where and how big.</param>
    /// <param name="timeProvider">The clock for TTLs and access times (tests move it).</param>
    public ContentCache(ContentCacheOptions options, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        _time = timeProvider ?? TimeProvider.System;
        Directory.CreateDirectory(options.RootDirectory);
        _store = new BlobStore(options.RootDirectory, options.MaxObjectBytes);
        _store.RemoveLeftoverTempFiles();
        _metadata = new CacheMetadata(Path.Combine(options.RootDirectory, DatabaseName));
        _policy = EvictionPolicies.Create<BlobDigest>(options.EvictionPolicy, options.MaxTotalBytes, options.GhostCapacity);
        _flights = new SingleFlight<CacheKey, CacheEntry>(options.FetchTimeout);
        _accessesFlushedAt = _time.GetUtcNow();
        Reconcile();
    }

    /// <summary>The options the cache was opened with.</summary>
    public ContentCacheOptions Options { get; }

    /// <summary>The blob store underneath (for its layout; go through the cache to change it).</summary>
    public BlobStore Store => _store;

    /// <summary>Bytes of the blobs cached now.</summary>
    public long UsedBytes
    {
        get
        {
            lock (_gate)
            {
                return _policy.UsedBytes;
            }
        }
    }

    /// <summary>Blobs cached now.</summary>
    public int BlobCount
    {
        get
        {
            lock (_gate)
            {
                return _policy.Count;
            }
        }
    }

    /// <summary>A key's entry: fresh, stale (expired, usable when the upstream is down) or missing.</summary>
    public CacheLookup Lookup(CacheKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var now = _time.GetUtcNow();
            if (!_memo.TryGet(key, out var entry))
            {
                entry = _metadata.Lookup(key, now).Entry;
                _memo.Set(key, entry);
            }

            if (entry is null || !_policy.Contains(entry.Digest))
            {
                return CacheLookup.Missing;
            }

            var fresh = entry.ExpiresAt is not { } expires || now < expires;
            return new CacheLookup(fresh ? CacheFreshness.Fresh : CacheFreshness.Stale, entry);
        }
    }

    /// <summary>
    /// Opens the body of a <see cref="GetOrFetchAsync"/> answer (see <see cref="OpenRead(CacheEntry, bool)"/>); a
    /// <see cref="CacheOutcome.Fetched"/> answer's read is not counted as a hit.
    /// </summary>
    public Stream? OpenRead(CacheResult result)
    {
        ArgumentNullException.ThrowIfNull(result);

        // The waiters of a fetch read the blob they just stored: that is the miss being served, not a second request.
        // Counting it would mark every fetched blob as re-used, so S3-FIFO would promote all of them to main and its
        // one-hit-wonder filter would never filter anything.
        return OpenRead(result.Entry, countAsHit: result.Outcome != CacheOutcome.Fetched);
    }

    /// <summary>
    /// Opens an entry's body through a verifying stream (read it to the end: a corrupt blob throws
    /// <see cref="CacheIntegrityException"/> there and is removed). Null when the blob is gone (evicted meanwhile).
    /// </summary>
    /// <param name="entry">The entry whose body to read.</param>
    /// <param name="countAsHit">
    /// True when this read answers a lookup that found the entry (the eviction policy records a hit); false when it
    /// serves the miss that just stored it, which must not count as a re-use.
    /// </param>
    public Stream? OpenRead(CacheEntry entry, bool countAsHit = true)
    {
        ArgumentNullException.ThrowIfNull(entry);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!(countAsHit ? _policy.Access(entry.Digest) : _policy.Contains(entry.Digest)))
            {
                return null;
            }

            // Opened under the gate, so eviction cannot delete the file between the policy's yes and the open: a null
            // here means the file really is gone, and forgetting the digest cannot hit a copy stored again meanwhile.
            // Once open (the store shares it for deletion), eviction may unlink the file and the read still completes.
            var stream = _store.OpenRead(entry.Digest, Forget);
            if (stream is null)
            {
                // The file vanished behind the metadata's back (an operator, a disk error): stop answering with it.
                Forget(entry.Digest);
                return null;
            }

            NoteAccessLocked(entry.Digest);
            return stream;
        }
    }

    /// <summary>
    /// Stores a body under a key: streamed into the blob store (size-bounded, verified against
    /// <see cref="CacheEntryOptions.ExpectedDigest"/>), recorded, and admitted to the eviction policy, which may evict
    /// other blobs (and their entries) to stay within budget. A failure stores nothing.
    /// </summary>
    /// <remarks>
    /// If the blob is bigger than what pinned blobs leave of the budget, the policy may evict it at once; the entry
    /// returned then reads as missing.
    /// </remarks>
    public async Task<CacheEntry> PutAsync(CacheKey key, Stream content, CacheEntryOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var staged = await _store.StageAsync(content, options.ExpectedDigest, cancellationToken);
        lock (_gate)
        {
            // Checked again: the cache may have been disposed while the body streamed in (a detached fill outlives
            // its callers); the staged temp file is deleted on the way out.
            ObjectDisposedException.ThrowIf(_disposed, this);
            var now = _time.GetUtcNow();
            _store.Commit(staged);
            _metadata.RecordBlob(staged.Digest, staged.Size, now);
            var entry = new CacheEntry
            {
                Key = key,
                Digest = staged.Digest,
                Size = staged.Size,
                ContentType = options.ContentType,
                ETag = options.ETag,
                UpstreamStatus = options.UpstreamStatus,
                StoredAt = now,
                ExpiresAt = options.TimeToLive is { } ttl ? now + ttl : null,
            };
            _metadata.PutEntry(entry);
            _memo.Set(key, entry);
            EvictLocked(_policy.Insert(staged.Digest, staged.Size));
            return entry;
        }
    }

    /// <summary>
    /// A fresh entry for <paramref name="key"/>, fetching it on a miss or when stale. Concurrent misses for the same
    /// key share one call of <paramref name="fetch"/>, which runs detached from <paramref name="cancellationToken"/>
    /// (that only stops this caller's wait). When the fetch fails and a stale entry exists, the stale entry is
    /// returned, flagged; otherwise the failure is thrown to every waiter and nothing is remembered of it.
    /// </summary>
    /// <param name="key">What to get.</param>
    /// <param name="fetch">Fetches the body from upstream; given the flight's token (timeout, shutdown).</param>
    /// <param name="cancellationToken">Stops this caller's wait, not the fetch.</param>
    public async Task<CacheResult> GetOrFetchAsync(CacheKey key, Func<CancellationToken, Task<CacheFill>> fetch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(fetch);
        var lookup = Lookup(key);
        if (lookup is { Freshness: CacheFreshness.Fresh, Entry: { } fresh })
        {
            return new CacheResult(CacheOutcome.Hit, fresh);
        }

        try
        {
            var entry = await _flights.RunAsync(key, token => FillAsync(key, fetch, token), cancellationToken);
            return new CacheResult(CacheOutcome.Fetched, entry);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && lookup is { Freshness: CacheFreshness.Stale, Entry: { } stale })
        {
            return new CacheResult(CacheOutcome.Stale, stale, ex);
        }
    }

    /// <summary>Holds a pin on a blob (pins nest); a pinned blob is never evicted. False when the blob is not cached.</summary>
    public bool Pin(BlobDigest digest) => AdjustPins(digest, +1);

    /// <summary>Releases one pin. False when the blob is not cached.</summary>
    public bool Unpin(BlobDigest digest) => AdjustPins(digest, -1);

    /// <summary>The metadata row of a blob, or null (for stats and tests).</summary>
    public BlobRecord? GetBlob(BlobDigest digest)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            FlushAccessesLocked();
            return _metadata.GetBlob(digest);
        }
    }

    /// <summary>
    /// Refuses further calls, cancels running fetches and waits (at most 10 s) for them to stop, then closes the
    /// metadata. Calls that race it throw <see cref="ObjectDisposedException"/>.
    /// </summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        // A detached fill may be streaming a body in; once it stops it finds _disposed and deletes its temp file
        // instead of committing a blob no metadata would record. Waiting lets that happen before the process moves on;
        // the bound keeps a fill that ignores its token from holding up shutdown (the flag still keeps it out).
        _ = _flights.StopAsync(DisposeWait).GetAwaiter().GetResult();
        _flights.Dispose();
        lock (_gate)
        {
            FlushAccessesLocked();
            _metadata.Dispose();
            _store.CloseOpenFiles();
        }
    }

    private async Task<CacheEntry> FillAsync(CacheKey key, Func<CancellationToken, Task<CacheFill>> fetch, CancellationToken cancellationToken)
    {
        // A flight that finished just before this one started may have stored it already.
        if (Lookup(key) is { Freshness: CacheFreshness.Fresh, Entry: { } stored })
        {
            return stored;
        }

        var fill = await fetch(cancellationToken);
        await using (fill)
        {
            return await PutAsync(key, fill.Content, fill.Options, cancellationToken);
        }
    }

    private void NoteAccessLocked(BlobDigest digest)
    {
        var now = _time.GetUtcNow();
        _pendingAccesses[digest] = now;
        if (_pendingAccesses.Count >= MaxPendingAccesses || now - _accessesFlushedAt >= AccessFlushInterval)
        {
            FlushAccessesLocked();
        }
    }

    /// <summary>Writes the pending access times (under the gate).</summary>
    private void FlushAccessesLocked()
    {
        _accessesFlushedAt = _time.GetUtcNow();
        if (_pendingAccesses.Count == 0)
        {
            return;
        }

        _metadata.TouchBlobs(_pendingAccesses);
        _pendingAccesses.Clear();
    }

    private bool AdjustPins(BlobDigest digest, int delta)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_policy.Contains(digest) || _metadata.AdjustPins(digest, delta) is not { } pins)
            {
                return false;
            }

            _policy.SetPinned(digest, pins > 0);
            return true;
        }
    }

    /// <summary>Forgets a blob that is corrupt or gone: policy, metadata (with its entries) and file.</summary>
    private void Forget(BlobDigest digest)
    {
        lock (_gate)
        {
            if (_disposed)
            {
                // The store deleted a corrupt file already; its row goes when the next start reconciles.
                return;
            }

            _policy.Remove(digest);
            _metadata.RemoveBlob(digest);
            _memo.Clear();
            _store.Delete(digest);
        }
    }

    private void EvictLocked(IReadOnlyList<BlobDigest> victims)
    {
        if (victims.Count > 0)
        {
            // Their entries go with them; the memo cannot tell which keys those were.
            _memo.Clear();
        }

        foreach (var victim in victims)
        {
            // Metadata first: a crash in between leaves an orphan file, which the next start deletes.
            _metadata.RemoveBlob(victim);
            _store.Delete(victim);
        }
    }

    /// <summary>
    /// Brings metadata and files into agreement after a restart (rows without files and files without rows go) and
    /// replays the blobs into the policy, pinned first and then least recently used first, so the hot ones are the
    /// last admitted. A smaller budget than last time evicts here.
    /// </summary>
    private void Reconcile()
    {
        lock (_gate)
        {
            var onDisk = _store.EnumerateDigests().ToHashSet();
            var rows = _metadata.ListBlobs();
            foreach (var blob in rows.Where(b => b.IsPinned).Concat(rows.Where(b => !b.IsPinned)))
            {
                if (!onDisk.Remove(blob.Digest))
                {
                    _metadata.RemoveBlob(blob.Digest);
                    continue;
                }

                var victims = _policy.Insert(blob.Digest, blob.Size);
                _policy.SetPinned(blob.Digest, blob.IsPinned);
                EvictLocked(victims);
            }

            foreach (var orphan in onDisk)
            {
                _store.Delete(orphan);
            }
        }
    }
}
