namespace Cleanroom.Gateway.Cache;

/// <summary>One protocol's share of the cache.</summary>
/// <param name="Protocol">The route family (<c>npm</c>, <c>oci</c>...).</param>
/// <param name="Entries">Its entries.</param>
/// <param name="Bytes">The sum of its entries' sizes (a blob two entries share counts twice).</param>
/// <param name="FreshEntries">Entries that are immutable or within their TTL.</param>
/// <param name="ExpiredEntries">Mutable entries past their TTL (stale: served only when the upstream is down).</param>
public sealed record CacheProtocolStatistics(string Protocol, long Entries, long Bytes, long FreshEntries, long ExpiredEntries);
