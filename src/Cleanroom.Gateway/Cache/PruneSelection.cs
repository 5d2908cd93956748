namespace Cleanroom.Gateway.Cache;

/// <summary>What <see cref="CacheMetadata.Prune"/> took out of the metadata (or would have, on a dry run).</summary>
/// <param name="Listed">The first removed entries, newest first.</param>
/// <param name="RemovedEntries">How many entries went.</param>
/// <param name="RemovedBlobs">The blobs whose rows went (digest and size), for the caller to delete.</param>
/// <param name="KeptPinnedBlobs">Blobs left without an entry that stay because they are pinned.</param>
internal sealed record PruneSelection(IReadOnlyList<CacheEntry> Listed, long RemovedEntries, IReadOnlyList<(BlobDigest Digest, long Size)> RemovedBlobs, long KeptPinnedBlobs);
