namespace Cleanroom.Gateway.Cache;

/// <summary>
/// Bytes did not hash to the digest they were supposed to have: on the way in (an upstream sent something other than
/// what was pinned; nothing was stored) or on the way out (a stored blob changed on disk; it has been removed, so the
/// next miss fetches it again).
/// </summary>
public sealed class CacheIntegrityException : IOException
{
    /// <summary>Creates the exception with a message that names both digests (or only the expected one).</summary>
    public CacheIntegrityException(string message, BlobDigest expected, BlobDigest? actual)
        : base(message)
    {
        Expected = expected;
        Actual = actual;
    }

    /// <summary>The digest the bytes should have had.</summary>
    public BlobDigest Expected { get; }

    /// <summary>
    /// The digest the bytes had; null when a read was failed by the blob's recorded read check
    /// (<see cref="BlobReadCheck"/>), which tells that the bytes changed without computing their SHA-256.
    /// </summary>
    public BlobDigest? Actual { get; }
}
