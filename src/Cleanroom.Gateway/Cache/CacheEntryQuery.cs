namespace Cleanroom.Gateway.Cache;

/// <summary>Which entries <see cref="ContentCache.ListEntries"/> returns: newest first, optionally one protocol's, bounded.</summary>
public sealed record CacheEntryQuery
{
    /// <summary>Entries returned when no limit is given.</summary>
    public const int DefaultLimit = 1000;

    /// <summary>The most entries one query may ask for (keys are up to 2048 characters each).</summary>
    public const int MaxLimit = 100_000;

    /// <summary>Only this protocol's entries; null for all.</summary>
    public string? Protocol { get; init; }

    /// <summary>At most this many entries, 1 to <see cref="MaxLimit"/>.</summary>
    public int Limit { get; init; } = DefaultLimit;

    /// <summary>
    /// Continue after this entry (the last one of the previous page), so a long listing can be read in pages without
    /// holding it all at once; null starts with the newest.
    /// </summary>
    public CacheEntry? After { get; init; }

    /// <summary>Throws when the protocol is not a valid name or the limit is out of range.</summary>
    /// <exception cref="ArgumentException">Says which and why.</exception>
    public void Validate()
    {
        if (Protocol is not null && !CacheKey.IsValidName(Protocol))
        {
            throw new ArgumentException($"a protocol is 1 to {CacheKey.MaxNameLength} characters of a-z, 0-9, '.', '_', '-'", nameof(Protocol));
        }

        if (Limit is < 1 or > MaxLimit)
        {
            throw new ArgumentOutOfRangeException(nameof(Limit), Limit, $"the limit is 1 to {MaxLimit}");
        }
    }
}
