namespace Cleanroom.Gateway.Cache;

/// <summary>What a put stored.</summary>
/// <param name="Digest">The blob's SHA-256.</param>
/// <param name="Size">Its size in bytes.</param>
/// <param name="AlreadyPresent">True when the store had it already (only its time was touched).</param>
public readonly record struct BlobPutResult(BlobDigest Digest, long Size, bool AlreadyPresent);
