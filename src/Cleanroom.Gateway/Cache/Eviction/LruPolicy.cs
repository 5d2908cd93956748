namespace Cleanroom.Gateway.Cache.Eviction;

/// <summary>
/// Least-recently-used by bytes: a hit moves an object to the front, eviction takes from the back (skipping pinned
/// objects). Here to be measured against <see cref="S3FifoPolicy{TKey}"/>: one big scan flushes everything from it.
/// </summary>
/// <typeparam name="TKey">What names an object.</typeparam>
public sealed class LruPolicy<TKey> : IEvictionPolicy<TKey>
    where TKey : notnull
{
    private readonly LinkedList<Item> _order = new(); // front = most recently used
    private readonly Dictionary<TKey, LinkedListNode<Item>> _items = [];

    /// <param name="capacityBytes">The byte budget.</param>
    public LruPolicy(long capacityBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacityBytes);
        CapacityBytes = capacityBytes;
    }

    /// <inheritdoc/>
    public long CapacityBytes { get; }

    /// <inheritdoc/>
    public long UsedBytes { get; private set; }

    /// <inheritdoc/>
    public int Count => _items.Count;

    /// <inheritdoc/>
    public bool Contains(TKey key) => _items.ContainsKey(key);

    /// <inheritdoc/>
    public bool Access(TKey key)
    {
        if (!_items.TryGetValue(key, out var node))
        {
            return false;
        }

        _order.Remove(node);
        _order.AddFirst(node);
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

        _items[key] = _order.AddFirst(new Item(key, size));
        UsedBytes += size;

        var evicted = new List<TKey>();
        var node = _order.Last;
        while (UsedBytes > CapacityBytes && node is not null)
        {
            var previous = node.Previous;
            if (!node.Value.Pinned)
            {
                _order.Remove(node);
                _items.Remove(node.Value.Key);
                UsedBytes -= node.Value.Size;
                evicted.Add(node.Value.Key);
            }

            node = previous;
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

        _order.Remove(node);
        UsedBytes -= node.Value.Size;
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

    private sealed class Item(TKey key, long size)
    {
        public TKey Key { get; } = key;

        public long Size { get; } = size;

        public bool Pinned { get; set; }
    }
}
