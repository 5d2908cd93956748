namespace Cleanroom.Gateway.Cache;

/// <summary>
/// What a put records beside the bytes. Values come from upstream responses, so they are bounded here before they
/// reach the metadata.
/// </summary>
public sealed record CacheEntryOptions
{
    /// <summary>Longest Content-Type kept.</summary>
    public const int MaxContentTypeLength = 256;

    /// <summary>Longest ETag kept.</summary>
    public const int MaxETagLength = 512;

    /// <summary>Longest TTL a mutable entry may have: mutable metadata is meant to be re-checked soon.</summary>
    public static readonly TimeSpan MaxTimeToLive = TimeSpan.FromDays(7);

    /// <summary>An immutable entry with no content type: the common case for content named by its digest.</summary>
    public static CacheEntryOptions Immutable { get; } = new();

    /// <summary>The upstream's Content-Type.</summary>
    public string ContentType { get; init; } = "";

    /// <summary>The upstream's ETag.</summary>
    public string ETag { get; init; } = "";

    /// <summary>The upstream's HTTP status.</summary>
    public int UpstreamStatus { get; init; } = 200;

    /// <summary>How long a mutable entry stays fresh; null makes the entry immutable.</summary>
    public TimeSpan? TimeToLive { get; init; }

    /// <summary>When given, the digest the body must have (a pinned SHA-256, an OCI digest); a mismatch stores nothing.</summary>
    public BlobDigest? ExpectedDigest { get; init; }

    /// <summary>Throws when a value is out of its bounds.</summary>
    /// <exception cref="ArgumentException">A value is too long, has control characters, or is out of range.</exception>
    public void Validate()
    {
        CheckText(ContentType, MaxContentTypeLength, nameof(ContentType));
        CheckText(ETag, MaxETagLength, nameof(ETag));
        if (UpstreamStatus is < 100 or > 599)
        {
            throw new ArgumentException($"an upstream status is 100 to 599, not {UpstreamStatus}", nameof(UpstreamStatus));
        }

        if (TimeToLive is { } ttl && (ttl <= TimeSpan.Zero || ttl > MaxTimeToLive))
        {
            throw new ArgumentException($"a TTL is more than zero and at most {MaxTimeToLive.TotalDays} days, not {ttl}", nameof(TimeToLive));
        }
    }

    private static void CheckText(string value, int maxLength, string name)
    {
        ArgumentNullException.ThrowIfNull(value, name);
        if (value.Length > maxLength)
        {
            throw new ArgumentException($"{name} is at most {maxLength} characters, not {value.Length}", name);
        }

        foreach (var c in value)
        {
            if (char.IsControl(c))
            {
                throw new ArgumentException($"{name} may not hold control characters (found U+{(int)c:X4})", name);
            }
        }
    }
}
