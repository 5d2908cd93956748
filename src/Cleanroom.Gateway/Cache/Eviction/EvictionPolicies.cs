namespace Cleanroom.Gateway.Cache.Eviction;

/// <summary>Builds the policy a <see cref="EvictionPolicyKind"/> names.</summary>
public static class EvictionPolicies
{
    /// <summary>A new, empty policy of <paramref name="kind"/>.</summary>
    /// <param name="kind">Which policy.</param>
    /// <param name="capacityBytes">The byte budget.</param>
    /// <param name="ghostCapacity">Most ghost keys (S3-FIFO only).</param>
    public static IEvictionPolicy<TKey> Create<TKey>(EvictionPolicyKind kind, long capacityBytes, int ghostCapacity)
        where TKey : notnull => kind switch
        {
            EvictionPolicyKind.S3Fifo => new S3FifoPolicy<TKey>(capacityBytes, ghostCapacity),
            EvictionPolicyKind.Lru => new LruPolicy<TKey>(capacityBytes),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown eviction policy"),
        };
}
