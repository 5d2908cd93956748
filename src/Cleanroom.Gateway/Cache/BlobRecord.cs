namespace Cleanroom.Gateway.Cache;

/// <summary>A blob's metadata row.</summary>
/// <param name="Digest">Its SHA-256.</param>
/// <param name="Size">Its size in bytes.</param>
/// <param name="CreatedAt">When it was first stored.</param>
/// <param name="LastAccess">When it was last stored again or read.</param>
/// <param name="PinCount">Pins held on it; a pinned blob is never evicted.</param>
/// <param name="RefCount">Entries that point at it.</param>
public sealed record BlobRecord(BlobDigest Digest, long Size, DateTimeOffset CreatedAt, DateTimeOffset LastAccess, int PinCount, int RefCount)
{
    /// <summary>True when at least one pin is held.</summary>
    public bool IsPinned => PinCount > 0;
}
