using Cleanroom.Gateway.Cache;
using Cleanroom.Gateway.Server;
using Cleanroom.Gateway.Upstream;
using Microsoft.AspNetCore.Http;

namespace Cleanroom.Gateway.Routes;

/// <summary>
/// <c>/fetch/HOST/PATH</c> and <c>/fetch/sha256:HEX/HOST/PATH</c>: GET or HEAD of an immutable download, cached for
/// as long as the cache keeps it under its URL (and the credential scope). The pinned form must hash to its digest;
/// a mismatch stores nothing and answers 502 <c>digest_mismatch</c>.
/// </summary>
internal sealed class FetchRoute(CachedUpstream cached, RouteCounterSet.Counters counters)
{
    public async Task HandleAsync(GatewayRequest request)
    {
        var segments = request.Target.Segments;
        var hostIndex = 1;
        BlobDigest? pinned = null;
        if (segments.Count > 1 && segments[1].StartsWith("sha256:", StringComparison.OrdinalIgnoreCase))
        {
            if (segments[1].Length != 71 || !BlobDigest.TryParse(segments[1], out var digest))
            {
                throw new GatewayRefusalException(400, ReasonCode.InvalidRequest, "a pinned fetch needs sha256: and 64 hex digits");
            }

            pinned = digest;
            hostIndex = 2;
        }

        var host = RouteHelpers.Host(request, hostIndex);
        if (segments.Count <= hostIndex + 1 || segments[hostIndex + 1].Length == 0)
        {
            throw new GatewayRefusalException(400, ReasonCode.InvalidRequest, "the path names no file on the upstream host");
        }

        var method = request.Http.Request.Method;
        if (!HttpMethods.IsGet(method) && !HttpMethods.IsHead(method))
        {
            throw new GatewayRefusalException(403, ReasonCode.MethodNotAllowed, "/fetch/ serves GET and HEAD only");
        }

        RouteHelpers.CheckPolicy(request, host);
        var pathAndQuery = request.Target.RawPathFrom(hostIndex + 1) + (request.Target.Query is { } q ? "?" + q : "");
        var scope = cached.Upstream.ScopeFor(host);
        var key = pinned is { } pin
            ? GatewayKeys.Make("fetch", "pinned", scope, pin.ToString(), host + pathAndQuery)
            : GatewayKeys.Make("fetch", "url", scope, host + pathAndQuery);
        var upstreamRequest = new UpstreamRequest(HttpMethod.Get, host, pathAndQuery, []);
        await cached.ServeAsync(request, key, upstreamRequest, new CacheEntryOptions { ExpectedDigest = pinned }, counters);
    }
}
