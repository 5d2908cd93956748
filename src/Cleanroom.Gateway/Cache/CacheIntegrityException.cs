namespace Cleanroom.Gateway.Cache;

/// <summary>
/// Bytes did not hash to the digest they were supposed to have: on the way in (an upstream sent something other than
/// what was pinned; nothing was stored) or on the way out (a stored blob changed on disk; it has been removed, so the
/// next miss fetches it again).
/// </summary>
public sealed class CacheIntegrityException : IOException
{
    /// <summary>Creates the exception with a message that names both digests.</summary>
    public CacheIntegrityException(string message, BlobDigest expected, BlobDigest actual)
        : base(message)
    {
        Expected = expected;
        Actual = actual;
    }

    /// <summary>The digest the bytes should have had.</summary>
    public BlobDigest Expected { get; }

    /// <summary>The digest the bytes had.</summary>
    public BlobDigest Actual { get; }
}
