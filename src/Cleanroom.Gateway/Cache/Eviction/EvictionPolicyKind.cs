namespace Cleanroom.Gateway.Cache.Eviction;

/// <summary>Which eviction policy a cache uses.</summary>
public enum EvictionPolicyKind
{
    /// <summary>S3-FIFO: scan-resistant; the default.</summary>
    S3Fifo,

    /// <summary>Plain least-recently-used, kept for comparison.</summary>
    Lru,
}
