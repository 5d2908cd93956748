namespace Cleanroom.Gateway.Cache.Eviction;

/// <summary>
/// S3-FIFO (Yang et al., SOSP 2023) by bytes. New objects enter a small FIFO queue (a tenth of the budget by default);
/// when the small queue is over its share, its oldest object moves to the main queue if it was hit while there, and
/// is otherwise evicted and its key remembered in a count-bounded ghost set. A key that comes back while still a
/// ghost goes straight to main. Main is a FIFO with second chances: each hit (counted up to
/// <see cref="MaxFrequency"/>) buys one more trip round the queue. One-hit wonders (a big one-off image pull, a scan)
/// pass through the small queue without flushing the popular objects in main, which is the point against LRU.
/// Pinned objects are never evicted; they go round again instead.
/// </summary>
/// <typeparam name="TKey">What names an object.</typeparam>
public sealed class S3FifoPolicy<TKey> : IEvictionPolicy<TKey>
    where TKey : notnull
{
    /// <summary>The cap on counted hits: at most this many second chances in main.</summary>
    public const int MaxFrequency = 3;

    /// <summary>The small queue's share of the budget unless told otherwise.</summary>
    public const double DefaultSmallFraction = 0.1;

    private readonly LinkedList<Item> _small = new(); // front = newest, eviction from the back
    private readonly LinkedList<Item> _main = new();
    private readonly Dictionary<TKey, LinkedListNode<Item>> _items = [];
    private readonly GhostSet<TKey> _ghosts;
    private readonly long _smallCapacity;

    /// <param name="capacityBytes">The byte budget.</param>
    /// <param name="ghostCapacity">Most keys the ghost set remembers.</param>
    /// <param name="smallFraction">The small queue's share of the budget, above 0 and below 1.</param>
    public S3FifoPolicy(long capacityBytes, int ghostCapacity, double smallFraction = DefaultSmallFraction)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacityBytes);
        if (smallFraction is <= 0 or >= 1 || double.IsNaN(smallFraction))
        {
            throw new ArgumentOutOfRangeException(nameof(smallFraction), smallFraction, "the small queue's share is above 0 and below 1");
        }

        CapacityBytes = capacityBytes;
        _smallCapacity = Math.Max(1, (long)(capacityBytes * smallFraction));
        _ghosts = new GhostSet<TKey>(ghostCapacity);
    }

    /// <inheritdoc/>
    public long CapacityBytes { get; }

    /// <inheritdoc/>
    public long UsedBytes => SmallBytes + MainBytes;

    /// <inheritdoc/>
    public int Count => _items.Count;

    /// <summary>Bytes in the small queue.</summary>
    public long SmallBytes { get; private set; }

    /// <summary>Bytes in the main queue.</summary>
    public long MainBytes { get; private set; }

    /// <summary>Keys the ghost set remembers now.</summary>
    public int GhostCount => _ghosts.Count;

    /// <inheritdoc/>
    public bool Contains(TKey key) => _items.ContainsKey(key);

    /// <summary>True when the object is in the main queue.</summary>
    public bool IsInMain(TKey key) => _items.TryGetValue(key, out var node) && node.Value.InMain;

    /// <summary>True when the key is a ghost (evicted from small recently, not cached).</summary>
    public bool IsGhost(TKey key) => _ghosts.Contains(key);

    /// <inheritdoc/>
    public bool Access(TKey key)
    {
        if (!_items.TryGetValue(key, out var node))
        {
            return false;
        }

        // FIFO queues do not reorder on a hit (that is what makes them cheap); the count is read at eviction time.
        node.Value.Frequency = Math.Min(node.Value.Frequency + 1, MaxFrequency);
        return true;
    }

    /// <inheritdoc/>
    public IReadOnlyList<TKey> Insert(TKey key, long size)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        if (Access(key))
        {
            return [];
        }

        var node = new LinkedListNode<Item>(new Item(key, size));
        _items[key] = node;
        if (_ghosts.Remove(key))
        {
            AddToMain(node);
        }
        else
        {
            AddToSmall(node);
        }

        var evicted = new List<TKey>();
        while (UsedBytes > CapacityBytes && EvictOne(evicted))
        {
        }

        return evicted;
    }

    /// <inheritdoc/>
    public bool Remove(TKey key)
    {
        if (!_items.Remove(key, out var node))
        {
            return false;
        }

        Unlink(node);
        return true;
    }

    /// <inheritdoc/>
    public bool SetPinned(TKey key, bool pinned)
    {
        if (!_items.TryGetValue(key, out var node))
        {
            return false;
        }

        node.Value.Pinned = pinned;
        return true;
    }

    /// <summary>Evicts one object; false when every object left is pinned.</summary>
    private bool EvictOne(List<TKey> evicted)
    {
        // Every step that evicts nothing moves an object small→main (once each), spends one of its at most
        // MaxFrequency second chances, or passes a pinned one; so this many steps without an eviction means
        // only pinned objects are left.
        var steps = ((long)_small.Count + _main.Count) * (MaxFrequency + 2) + 1;
        var pinnedInARow = 0;
        for (; steps > 0; steps--)
        {
            var fromSmall = _small.Count > 0 && (SmallBytes >= _smallCapacity || _main.Count == 0 || pinnedInARow >= _main.Count);
            if (fromSmall)
            {
                if (EvictFromSmall(evicted))
                {
                    return true;
                }
            }
            else if (_main.Count > 0)
            {
                var outcome = EvictFromMain(evicted);
                if (outcome == MainOutcome.Evicted)
                {
                    return true;
                }

                pinnedInARow = outcome == MainOutcome.Pinned ? pinnedInARow + 1 : 0;
            }
            else
            {
                return false;
            }
        }

        return false;
    }

    private bool EvictFromSmall(List<TKey> evicted)
    {
        var node = _small.Last!;
        Unlink(node);
        if (node.Value.Frequency > 0 || node.Value.Pinned)
        {
            // Hit while on probation: it has shown it is not a one-hit wonder. Its hits are spent on the promotion.
            node.Value.Frequency = 0;
            AddToMain(node);
            return false;
        }

        _items.Remove(node.Value.Key);
        _ghosts.Add(node.Value.Key);
        evicted.Add(node.Value.Key);
        return true;
    }

    private MainOutcome EvictFromMain(List<TKey> evicted)
    {
        var node = _main.Last!;
        Unlink(node);
        if (node.Value.Pinned)
        {
            AddToMain(node);
            return MainOutcome.Pinned;
        }

        if (node.Value.Frequency > 0)
        {
            node.Value.Frequency--;
            AddToMain(node);
            return MainOutcome.SecondChance;
        }

        _items.Remove(node.Value.Key);
        evicted.Add(node.Value.Key);
        return MainOutcome.Evicted;
    }

    private void AddToSmall(LinkedListNode<Item> node)
    {
        node.Value.InMain = false;
        _small.AddFirst(node);
        SmallBytes += node.Value.Size;
    }

    private void AddToMain(LinkedListNode<Item> node)
    {
        node.Value.InMain = true;
        _main.AddFirst(node);
        MainBytes += node.Value.Size;
    }

    private void Unlink(LinkedListNode<Item> node)
    {
        if (node.Value.InMain)
        {
            _main.Remove(node);
            MainBytes -= node.Value.Size;
        }
        else
        {
            _small.Remove(node);
            SmallBytes -= node.Value.Size;
        }
    }

    private enum MainOutcome
    {
        Evicted,
        SecondChance,
        Pinned,
    }

    private sealed class Item(TKey key, long size)
    {
        public TKey Key { get; } = key;

        public long Size { get; } = size;

        public int Frequency { get; set; }

        public bool InMain { get; set; }

        public bool Pinned { get; set; }
    }
}
