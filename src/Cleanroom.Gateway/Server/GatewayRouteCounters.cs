namespace Cleanroom.Gateway.Server;

/// <summary>What one route (<c>git</c>, <c>fetch</c>, ...) has served since the daemon started.</summary>
/// <param name="Route">The route's name.</param>
/// <param name="Hits">Answered from the cache.</param>
/// <param name="Misses">Fetched from upstream (and cached when cacheable).</param>
/// <param name="StaleServed">Answered from a stale cache entry because the upstream failed.</param>
/// <param name="Bypassed">Passed through uncached (mutable answers, non-cacheable requests).</param>
/// <param name="Refused">Refused by the gateway (policy, bad request, limits).</param>
/// <param name="UpstreamErrors">Failed upstream with nothing cached to fall back on.</param>
/// <param name="BytesServed">Response body bytes sent to guests.</param>
public sealed record GatewayRouteCounters(
    string Route, long Hits, long Misses, long StaleServed, long Bypassed, long Refused, long UpstreamErrors, long BytesServed);
