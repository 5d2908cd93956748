using Cleanroom.Gateway.Cache;
using Cleanroom.Gateway.Server;
using Cleanroom.Gateway.Upstream;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Cleanroom.Gateway.Routes;

/// <summary>
/// <c>/fetch/HOST/PATH</c> and <c>/fetch/sha256:HEX/HOST/PATH</c>: GET or HEAD of an immutable download, cached for
/// as long as the cache keeps it under its URL (and the credential scope). The pinned form must hash to its digest;
/// a mismatch stores nothing and answers 502 <c>digest_mismatch</c>.
/// </summary>
internal sealed class FetchRoute(ContentCache cache, UpstreamClient upstream, RouteCounterSet.Counters counters, ILogger logger)
{
    private const int MaxErrorBody = 64 << 10;

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
        var scope = upstream.ScopeFor(host);
        var key = pinned is { } pin
            ? GatewayKeys.Make("fetch", "pinned", scope, pin.ToString(), host + pathAndQuery)
            : GatewayKeys.Make("fetch", "url", scope, host + pathAndQuery);
        var upstreamRequest = new UpstreamRequest(HttpMethod.Get, host, pathAndQuery, []);

        for (var attempt = 0; attempt < 2; attempt++)
        {
            CacheResult result;
            try
            {
                result = await cache.GetOrFetchAsync(key, token => FillAsync(request.Client, key, upstreamRequest, pinned, token), request.Aborted);
            }
            catch (UpstreamStatusException status) when (status.IsServerFailure)
            {
                throw new UpstreamFailedException($"the upstream answered {status.Status}", status);
            }
            catch (UpstreamStatusException status)
            {
                counters.Bypass();
                await ResponseWriter.PassStatusAsync(request, status, counters);
                return;
            }
            catch (CacheIntegrityException ex)
            {
                throw new GatewayRefusalException(502, ReasonCode.DigestMismatch, $"the upstream's bytes do not match the pinned digest ({ex.Actual}); nothing was cached");
            }

            var state = result.Outcome switch { CacheOutcome.Hit => "hit", CacheOutcome.Stale => "stale", _ => "miss" };
            // Whoever filled the entry, the hosts its redirects went through must be allowed for this asker too.
            await RedirectRecords.CheckAsync(cache, key, request);
            if (await ResponseWriter.ServeEntryAsync(request, cache.OpenRead(result), result.Entry, state, counters, logger))
            {
                (result.Outcome switch { CacheOutcome.Hit => (Action)counters.Hit, CacheOutcome.Stale => counters.Stale, _ => counters.Miss })();
                return;
            }

            // Evicted between the answer and the open: one more go fetches it again.
        }

        throw new UpstreamFailedException("the object was evicted from the cache twice while being served");
    }

    private async Task<CacheFill> FillAsync(GatewayClient client, CacheKey key, UpstreamRequest request, BlobDigest? pinned, CancellationToken token)
    {
        var response = await upstream.SendAsync(client, request, token);
        if (response.Status != 200)
        {
            await using (response)
            {
                throw new UpstreamStatusException(response.Status, response.ContentType, await response.ReadPrefixAsync(MaxErrorBody, token));
            }
        }

        try
        {
            await RedirectRecords.RecordAsync(cache, key, response, token);
        }
        catch
        {
            await response.DisposeAsync();
            throw;
        }

        return new CacheFill(response.Body, new CacheEntryOptions { ContentType = response.ContentType, ExpectedDigest = pinned });
    }
}
