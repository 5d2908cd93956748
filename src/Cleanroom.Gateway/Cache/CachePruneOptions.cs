namespace Cleanroom.Gateway.Cache;

/// <summary>
/// What <see cref="ContentCache.Prune"/> removes. The selectors narrow one another: <see cref="ExpiredOnly"/> and
/// <see cref="OlderThan"/> together remove expired entries whose blob was also unused for that long;
/// <see cref="Protocol"/> limits any of them to one protocol. With no selector (neither <see cref="All"/>,
/// <see cref="OlderThan"/> nor <see cref="ExpiredOnly"/>) only expired entries go: the safe default.
/// </summary>
public sealed record CachePruneOptions
{
    /// <summary>Longest <see cref="OlderThan"/> accepted (a century), so the cut-off stays a representable time.</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromDays(36_500);

    /// <summary>Removed entries listed in the result by default (the counts cover all of them).</summary>
    public const int DefaultListed = 1000;

    /// <summary>Every entry (of <see cref="Protocol"/>, when given), and without a protocol every unreferenced blob too.</summary>
    public bool All { get; init; }

    /// <summary>Entries whose blob was last stored or read longer ago than this.</summary>
    public TimeSpan? OlderThan { get; init; }

    /// <summary>Mutable entries past their TTL.</summary>
    public bool ExpiredOnly { get; init; }

    /// <summary>Only this protocol's entries; null for all.</summary>
    public string? Protocol { get; init; }

    /// <summary>Work out and report what would go, and change nothing.</summary>
    public bool DryRun { get; init; }

    /// <summary>How many removed entries the result lists (newest first), 0 to <see cref="CacheEntryQuery.MaxLimit"/>.</summary>
    public int MaxListed { get; init; } = DefaultListed;

    /// <summary>True when no selector was given, so only expired entries are pruned.</summary>
    public bool DefaultsToExpired => !All && OlderThan is null && !ExpiredOnly;

    /// <summary>Throws when the options contradict each other or a value is out of range.</summary>
    /// <exception cref="ArgumentException">Says which and why.</exception>
    public void Validate()
    {
        if (All && (OlderThan is not null || ExpiredOnly))
        {
            throw new ArgumentException("'all' removes every entry; it cannot be combined with an age or with expired-only");
        }

        if (OlderThan is { } age && (age <= TimeSpan.Zero || age > MaxAge))
        {
            throw new ArgumentOutOfRangeException(nameof(OlderThan), age, $"the age is more than zero and at most {MaxAge.TotalDays} days");
        }

        if (Protocol is not null && !CacheKey.IsValidName(Protocol))
        {
            throw new ArgumentException($"a protocol is 1 to {CacheKey.MaxNameLength} characters of a-z, 0-9, '.', '_', '-'", nameof(Protocol));
        }

        if (MaxListed is < 0 or > CacheEntryQuery.MaxLimit)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxListed), MaxListed, $"at most {CacheEntryQuery.MaxLimit} entries are listed");
        }
    }
}
