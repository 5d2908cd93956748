namespace Cleanroom.Gateway.Cache.Eviction;

/// <summary>
/// Decides which objects leave a cache bounded by total bytes. The policy only tracks keys and sizes; the caller
/// deletes what <see cref="Insert"/> returns. Not thread-safe: the cache calls it under its own lock.
/// </summary>
/// <typeparam name="TKey">What names an object (a blob digest in the store, a number in the benchmark).</typeparam>
public interface IEvictionPolicy<TKey>
    where TKey : notnull
{
    /// <summary>The byte budget.</summary>
    long CapacityBytes { get; }

    /// <summary>Bytes of the objects tracked now.</summary>
    long UsedBytes { get; }

    /// <summary>Objects tracked now.</summary>
    int Count { get; }

    /// <summary>True when the object is tracked (cached).</summary>
    bool Contains(TKey key);

    /// <summary>Records a hit; false when the object is not tracked.</summary>
    bool Access(TKey key);

    /// <summary>
    /// Tracks a new object (an already tracked one counts as a hit) and, when that takes the total over the budget,
    /// evicts until it is within it again or only pinned objects are left.
    /// </summary>
    /// <returns>The evicted keys, for the caller to delete; empty when nothing had to go.</returns>
    IReadOnlyList<TKey> Insert(TKey key, long size);

    /// <summary>Stops tracking an object removed by other means (corruption, an operator's prune).</summary>
    bool Remove(TKey key);

    /// <summary>Marks an object as (un)evictable; false when it is not tracked.</summary>
    bool SetPinned(TKey key, bool pinned);
}
