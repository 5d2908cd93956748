namespace Cleanroom.Gateway.Cache;

/// <summary>
/// Open files of recently read small blobs, so a cache hit on one costs a positional read instead of an open, a lock,
/// a stat, an attribute read and a close (measured with bench/gateway_cache: those calls were most of a small hit's
/// cost above HTTP itself). Bounded in count and in the size of the blobs it holds, least recently used closed first.
/// A held file is dropped when its blob is deleted or replaced through the store, and checked on every use for having
/// lost its name behind the store's back, so a cached descriptor never answers for a file that is no longer there.
/// Every read still verifies every byte (<see cref="VerifyingReadStream"/>): a file changed in place is caught as before.
/// </summary>
internal sealed class BlobFileCache
{
    private readonly Lock _lock = new();
    private readonly Dictionary<BlobDigest, LinkedListNode<(BlobDigest Digest, BlobFile File)>> _files = [];
    private readonly LinkedList<(BlobDigest Digest, BlobFile File)> _recency = new();

    /// <param name="capacity">Most files held open at once (0 holds none).</param>
    /// <param name="maxBlobBytes">Largest blob held open: a large blob's open is a small part of its read.</param>
    public BlobFileCache(int capacity, long maxBlobBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        Capacity = capacity;
        MaxBlobBytes = maxBlobBytes;
    }

    /// <summary>Most files held open at once.</summary>
    public int Capacity { get; }

    /// <summary>Largest blob held open.</summary>
    public long MaxBlobBytes { get; }

    /// <summary>Files held open now.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _files.Count;
            }
        }
    }

    /// <summary>A lease on the held file of <paramref name="digest"/>; null when none is held (or it lost its name).</summary>
    public BlobFile? TryLease(BlobDigest digest)
    {
        lock (_lock)
        {
            if (!_files.TryGetValue(digest, out var node))
            {
                return null;
            }

            if (node.Value.File.IsUnlinked() || !node.Value.File.TryLease())
            {
                RemoveLocked(node);
                return null;
            }

            _recency.Remove(node);
            _recency.AddFirst(node);
            return node.Value.File;
        }
    }

    /// <summary>
    /// Holds <paramref name="file"/> for later reads when it is small enough, else closes it (a caller's lease keeps it
    /// open until that read ends). A file held before for the same digest is closed in favour of this one.
    /// </summary>
    public void HoldOrClose(BlobDigest digest, BlobFile file)
    {
        if (Capacity == 0 || file.Length > MaxBlobBytes)
        {
            file.Close();
            return;
        }

        lock (_lock)
        {
            if (_files.TryGetValue(digest, out var old))
            {
                RemoveLocked(old);
            }

            _files[digest] = _recency.AddFirst((digest, file));
            while (_files.Count > Capacity)
            {
                RemoveLocked(_recency.Last!);
            }
        }
    }

    /// <summary>Closes the held file of <paramref name="digest"/>, if any (its blob is being deleted or replaced).</summary>
    public void Drop(BlobDigest digest)
    {
        lock (_lock)
        {
            if (_files.TryGetValue(digest, out var node))
            {
                RemoveLocked(node);
            }
        }
    }

    /// <summary>Closes every held file (readers still streaming keep theirs until they end).</summary>
    public void Clear()
    {
        lock (_lock)
        {
            while (_recency.Last is { } last)
            {
                RemoveLocked(last);
            }
        }
    }

    private void RemoveLocked(LinkedListNode<(BlobDigest Digest, BlobFile File)> node)
    {
        _recency.Remove(node);
        _files.Remove(node.Value.Digest);
        node.Value.File.Close();
    }
}
