namespace Cleanroom.Gateway.Cache;

/// <summary>One page of <see cref="ContentCache.ListEntries"/>.</summary>
/// <param name="Entries">The entries, newest first (by when they were stored).</param>
/// <param name="TotalMatching">How many entries match the query's protocol in all (not only this page); counted for a first page only, null on later ones.</param>
/// <param name="HasMore">True when more entries follow the last one (ask again with it as <see cref="CacheEntryQuery.After"/>).</param>
public sealed record CacheEntryListing(IReadOnlyList<ListedCacheEntry> Entries, long? TotalMatching, bool HasMore);
