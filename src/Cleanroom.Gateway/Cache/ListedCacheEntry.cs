namespace Cleanroom.Gateway.Cache;

/// <summary>An entry as <see cref="ContentCache.ListEntries"/> shows it: the entry and when its blob was last used.</summary>
/// <param name="Entry">The entry.</param>
/// <param name="BlobLastAccess">When its blob was last stored or read; null if the blob row is missing.</param>
public sealed record ListedCacheEntry(CacheEntry Entry, DateTimeOffset? BlobLastAccess);
