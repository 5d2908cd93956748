namespace Cleanroom.Gateway.Cache.Eviction;

/// <summary>
/// Keys recently evicted from S3-FIFO's small queue, without their data, bounded by count: the oldest key is forgotten
/// when a new one would pass the bound. A key found here was wanted again soon after eviction, so it skips the small
/// queue on its way back.
/// </summary>
/// <typeparam name="TKey">What names an object.</typeparam>
internal sealed class GhostSet<TKey>
    where TKey : notnull
{
    private readonly LinkedList<TKey> _order = new(); // front = most recently added
    private readonly Dictionary<TKey, LinkedListNode<TKey>> _keys = [];

    /// <param name="capacity">Most keys remembered; zero remembers none.</param>
    public GhostSet(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        Capacity = capacity;
    }

    /// <summary>Most keys remembered.</summary>
    public int Capacity { get; }

    /// <summary>Keys remembered now.</summary>
    public int Count => _keys.Count;

    /// <summary>True when the key is remembered.</summary>
    public bool Contains(TKey key) => _keys.ContainsKey(key);

    /// <summary>Remembers a key, forgetting the oldest when full.</summary>
    public void Add(TKey key)
    {
        if (Capacity == 0 || _keys.ContainsKey(key))
        {
            return;
        }

        if (_keys.Count >= Capacity)
        {
            var oldest = _order.Last!;
            _order.RemoveLast();
            _keys.Remove(oldest.Value);
        }

        _keys[key] = _order.AddFirst(key);
    }

    /// <summary>Forgets a key; true when it was remembered.</summary>
    public bool Remove(TKey key)
    {
        if (!_keys.Remove(key, out var node))
        {
            return false;
        }

        _order.Remove(node);
        return true;
    }
}
