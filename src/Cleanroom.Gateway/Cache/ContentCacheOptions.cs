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

    /// <summary>
    /// The largest single object; a bigger one fails while streaming in and is not stored. Defaults to a twentieth of
    /// <see cref="MaxTotalBytes"/> (512 MiB for the default 10 GiB) and may be at most a tenth of it.
    /// </summary>
    /// <remarks>
    /// The bound is tied to the budget because S3-FIFO's small queue gets a tenth of it: a bigger object gets no
    /// probation there, and a few of them would flush the whole cache.
    /// </remarks>
    public long MaxObjectBytes
    {
        get => _maxObjectBytes ?? Math.Max(1, MaxTotalBytes / DefaultObjectShare);
        init => _maxObjectBytes = value;
    }

    /// <summary>The default per-object bound is the total over this.</summary>
    public const long DefaultObjectShare = 20;

    /// <summary>The per-object bound may be at most the total over this (S3-FIFO's small queue share).</summary>
    public const long MaxObjectShare = 10;

    private readonly long? _maxObjectBytes;

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
        if (MaxObjectBytes > MaxTotalBytes / MaxObjectShare)
        {
            throw new ArgumentException(
                $"{nameof(MaxObjectBytes)} ({MaxObjectBytes} bytes) may be at most a tenth of {nameof(MaxTotalBytes)} ({MaxTotalBytes} bytes, so at most {MaxTotalBytes / MaxObjectShare}): "
                + "a bigger object skips S3-FIFO's small queue and flushes the cache", nameof(MaxObjectBytes));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(GhostCapacity);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(GhostCapacity, MaxGhostCapacity);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(FetchTimeout, TimeSpan.Zero);
    }
}
