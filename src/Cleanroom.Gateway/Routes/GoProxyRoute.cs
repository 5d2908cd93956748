using Cleanroom.Gateway.Cache;
using Cleanroom.Gateway.Routes.GoProxy;
using Cleanroom.Gateway.Server;
using Cleanroom.Gateway.Upstream;
using Microsoft.AspNetCore.Http;

namespace Cleanroom.Gateway.Routes;

/// <summary>
/// <c>/goproxy/HOST/…</c>: a Go module proxy (the GOPROXY protocol) in front of the proxy at <c>https://HOST/</c>.
/// Version lists and <c>@latest</c> are kept for the metadata TTL (and stand in, flagged stale, while the upstream is
/// down); <c>.info</c>, <c>.mod</c> and <c>.zip</c> of a canonical version never change in this protocol and are kept
/// for as long as the cache keeps them. 404 and 410 pass through uncached: the go command reads them as "not here".
/// The checksum database is proxied too (<c>sumdb/NAME/…</c>), fetched from <c>https://NAME/</c>, which the
/// sandbox's policy must allow as well.
/// </summary>
internal sealed class GoProxyRoute(CachedUpstream cached, GatewayOptions options, RouteCounterSet.Counters counters)
{
    private const int HostIndex = 1;
    private const int SumDbHostIndex = 3;

    public async Task HandleAsync(GatewayRequest request)
    {
        var host = RouteHelpers.Host(request, HostIndex);
        var method = request.Http.Request.Method;
        if (!HttpMethods.IsGet(method) && !HttpMethods.IsHead(method))
        {
            throw new GatewayRefusalException(403, ReasonCode.MethodNotAllowed, "/goproxy/ serves GET and HEAD only");
        }

        if (request.Target.Query is not null)
        {
            throw new GatewayRefusalException(400, ReasonCode.InvalidRequest, "Go module proxy requests have no query");
        }

        if (!GoProxyPath.TryParse(request.Target.Segments.Skip(HostIndex + 1).ToList(), out var target, out var problem))
        {
            throw new GatewayRefusalException(400, ReasonCode.InvalidRequest, problem);
        }

        RouteHelpers.CheckPolicy(request, host);
        var upstreamHost = host;
        if (target!.IsSumDb)
        {
            // The database is fetched from its own host, so that is the host the policy must allow. A refusal of
            // `supported` is a 403, not a 404: go stops with that message instead of trying the database directly
            // (which the sandbox's firewall would block with a less helpful error).
            upstreamHost = RouteHelpers.Host(request, SumDbHostIndex);
            RouteHelpers.CheckPolicy(request, upstreamHost);
            if (target.File == GoProxyFile.SumDbSupported)
            {
                await AnswerSupportedAsync(request);
                return;
            }
        }

        var scope = cached.Upstream.ScopeFor(upstreamHost);
        var key = GatewayKeys.Make("goproxy", target.Kind, scope, upstreamHost + target.UpstreamPath);
        var entryOptions = target.IsMutable ? new CacheEntryOptions { TimeToLive = options.MetadataTtl } : CacheEntryOptions.Immutable;
        var upstreamRequest = new UpstreamRequest(HttpMethod.Get, upstreamHost, target.UpstreamPath, []);
        await cached.ServeAsync(request, key, upstreamRequest, entryOptions, counters);
    }

    /// <summary>200 with an empty body: the go command then sends every checksum database request through here.</summary>
    private async Task AnswerSupportedAsync(GatewayRequest request)
    {
        counters.Bypass();
        var response = request.Http.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/plain; charset=utf-8";
        response.ContentLength = 0;
        response.Headers[ResponseWriter.CacheHeader] = "bypass";
        await response.CompleteAsync();
    }
}
