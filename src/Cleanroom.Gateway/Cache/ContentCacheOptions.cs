using Cleanroom.Gateway.Cache.Eviction;

namespace Cleanroom.Gateway.Cache;

/// <summary>Where a <see cref="ContentCache"/> lives and its bounds.</summary>
public sealed record ContentCacheOptions
{
    /// <summary>The most keys a ghost set may be configured to remember (a ghost costs a dictionary entry).</summary>
    public const int MaxGhostCapacity = 10_000_000;

    /// <summary>The cache's directory: <c>blobs/</c> and <c>metadata.db</c> live here.</summary>
    public required string RootDirectory { get; init; }

    /// <summary>The byte budget for all blobs (pinned ones included).</summary>
    public long MaxTotalBytes { get; init; } = 10L << 30;

    /// <summary>The largest single object; a bigger one fails while streaming in and is not stored.</summary>
    public long MaxObjectBytes { get; init; } = 2L << 30;

    /// <summary>Which eviction policy.</summary>
    public EvictionPolicyKind EvictionPolicy { get; init; } = EvictionPolicyKind.S3Fifo;

    /// <summary>Most keys S3-FIFO's ghost set remembers.</summary>
    public int GhostCapacity { get; init; } = 100_000;

    /// <summary>Longest one upstream fetch (shared by all its waiters) may take.</summary>
    public TimeSpan FetchTimeout { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>Throws when a bound is out of range.</summary>
    /// <exception cref="ArgumentException">A value is empty, non-positive or inconsistent.</exception>
    public void Validate()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(RootDirectory);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxTotalBytes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxObjectBytes);
        if (MaxObjectBytes > MaxTotalBytes)
        {
            throw new ArgumentException(
                $"the largest object ({MaxObjectBytes} bytes) cannot be more than the whole cache ({MaxTotalBytes} bytes)", nameof(MaxObjectBytes));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(GhostCapacity);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(GhostCapacity, MaxGhostCapacity);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(FetchTimeout, TimeSpan.Zero);
    }
}
