namespace Cleanroom.Gateway.Cache;

/// <summary>
/// A key's cached answer: which blob holds the body, and what the upstream said about it. Immutable entries
/// (content named by its digest, a released package version) have no expiry; mutable ones (a tag, a packument, a
/// module list) expire after their TTL and are then stale: still usable, flagged, when the upstream is down.
/// </summary>
public sealed record CacheEntry
{
    /// <summary>The key the entry answers.</summary>
    public required CacheKey Key { get; init; }

    /// <summary>The blob holding the body.</summary>
    public required BlobDigest Digest { get; init; }

    /// <summary>The body's size in bytes.</summary>
    public required long Size { get; init; }

    /// <summary>The upstream's Content-Type (empty when it sent none).</summary>
    public string ContentType { get; init; } = "";

    /// <summary>The upstream's ETag (empty when it sent none), for revalidating a stale entry.</summary>
    public string ETag { get; init; } = "";

    /// <summary>The upstream's HTTP status for this body.</summary>
    public int UpstreamStatus { get; init; } = 200;

    /// <summary>When the entry was stored.</summary>
    public required DateTimeOffset StoredAt { get; init; }

    /// <summary>When a mutable entry stops being fresh; null for an immutable one (fresh for as long as it is kept).</summary>
    public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary>True when the entry never expires.</summary>
    public bool IsImmutable => ExpiresAt is null;
}
