using System.IO.Compression;
using System.Security.Cryptography;
using Cleanroom.Gateway.Cache;
using Cleanroom.Gateway.Server;
using Cleanroom.Gateway.Upstream;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Cleanroom.Gateway.Routes;

/// <summary>
/// <c>/git/HOST/REPO/…</c>: git smart HTTP, fetch only. <c>GET REPO/info/refs?service=git-upload-pack</c> and
/// <c>POST REPO/git-upload-pack</c>; everything else (receive-pack, the dumb protocol, other methods) is refused with
/// 403 <c>method_not_allowed</c>. Pack answers are cached immutable by (scope, repo, Git-Protocol, SHA-256 of the
/// uncompressed request); ref advertisements go upstream every time and are kept with a TTL so that they can stand
/// in, flagged stale, while the upstream is down.
/// </summary>
internal sealed class GitRoute(
    ContentCache cache, UpstreamClient upstream, CachedUpstream cached, GatewayOptions options, RouteCounterSet.Counters counters, ILogger logger)
{
    private const int MaxErrorBody = 64 << 10;
    private const string UploadPack = "git-upload-pack";

    public async Task HandleAsync(GatewayRequest request)
    {
        var host = RouteHelpers.Host(request, 1);
        var target = request.Target;
        var segments = target.Segments;
        var method = request.Http.Request.Method;
        int repoEnd;
        bool isRefs;
        if (HttpMethods.IsGet(method) && segments.Count >= 5 && segments[^2] == "info" && segments[^1] == "refs"
            && target.Query == "service=" + UploadPack)
        {
            repoEnd = segments.Count - 2;
            isRefs = true;
        }
        else if (HttpMethods.IsPost(method) && segments.Count >= 4 && segments[^1] == UploadPack && target.Query is null)
        {
            repoEnd = segments.Count - 1;
            isRefs = false;
        }
        else
        {
            throw new GatewayRefusalException(
                403, ReasonCode.MethodNotAllowed,
                "the gateway serves git fetches only: GET info/refs?service=git-upload-pack and POST git-upload-pack (no push)");
        }

        RouteHelpers.CheckPolicy(request, host);
        var repo = "/" + string.Join('/', target.RawSegments.Skip(2).Take(repoEnd - 2));
        var headers = RouteHelpers.Forwarded(request.Http.Request, "Content-Type", "Accept", "Git-Protocol");
        var gitProtocol = headers.FirstOrDefault(h => h.Key == "Git-Protocol").Value ?? "";
        var scope = upstream.ScopeFor(host);
        if (isRefs)
        {
            var key = GatewayKeys.Make("git", "refs", scope, host + repo, gitProtocol);
            var get = new UpstreamRequest(HttpMethod.Get, host, repo + "/info/refs?service=" + UploadPack, headers);
            await RefsAsync(request, key, get);
            return;
        }

        var body = await ReadBodyAsync(request.Http.Request, options.MaxRequestBodyBytes, request.Aborted);
        var post = new UpstreamRequest(HttpMethod.Post, host, repo + "/" + UploadPack, headers, body);
        var bodyHash = Convert.ToHexStringLower(SHA256.HashData(body));
        switch (GitPktLine.Classify(body, gitProtocol))
        {
            case GitRequestKind.Pack:
                await cached.ServeAsync(request, GatewayKeys.Make("git", "pack", scope, host + repo, gitProtocol, bodyHash), post, CacheEntryOptions.Immutable, counters);
                break;
            case GitRequestKind.Refs:
                await RefsAsync(request, GatewayKeys.Make("git", "ls-refs", scope, host + repo, gitProtocol, bodyHash), post);
                break;
            default:
                await using (var response = await upstream.SendAsync(request.Client, post, request.Aborted))
                {
                    counters.Bypass();
                    await ResponseWriter.PassThroughAsync(request, response, counters);
                }

                break;
        }
    }

    /// <summary>
    /// The request body, bounded; a gzip body (git sends big negotiations compressed) is inflated, bounded too, so
    /// the cache key is the same however the client chose to send it.
    /// </summary>
    private static async Task<byte[]> ReadBodyAsync(HttpRequest request, long maxBytes, CancellationToken cancellationToken)
    {
        if (request.ContentLength > maxBytes)
        {
            throw new GatewayRefusalException(413, ReasonCode.RequestTooLarge, $"the request body is larger than {maxBytes} bytes");
        }

        var encoding = request.Headers.ContentEncoding.ToString();
        var raw = await ReadBoundedAsync(request.Body, maxBytes, cancellationToken);
        if (encoding.Length == 0 || encoding.Equals("identity", StringComparison.OrdinalIgnoreCase))
        {
            return raw;
        }

        if (!encoding.Equals("gzip", StringComparison.OrdinalIgnoreCase) && !encoding.Equals("x-gzip", StringComparison.OrdinalIgnoreCase))
        {
            throw new GatewayRefusalException(400, ReasonCode.InvalidRequest, "the request body's Content-Encoding is neither gzip nor identity");
        }

        try
        {
            await using var gzip = new GZipStream(new MemoryStream(raw), CompressionMode.Decompress);
            return await ReadBoundedAsync(gzip, maxBytes, cancellationToken);
        }
        catch (InvalidDataException)
        {
            throw new GatewayRefusalException(400, ReasonCode.InvalidRequest, "the request body is not valid gzip");
        }
    }

    private static async Task<byte[]> ReadBoundedAsync(Stream source, long maxBytes, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[64 << 10];
        int n;
        while ((n = await source.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + n > maxBytes)
            {
                throw new GatewayRefusalException(413, ReasonCode.RequestTooLarge, $"the request body is larger than {maxBytes} bytes (uncompressed)");
            }

            buffer.Write(chunk, 0, n);
        }

        return buffer.ToArray();
    }

    /// <summary>
    /// A ref advertisement: always asked of the upstream (refs move), stored with the metadata TTL, and served from
    /// what was stored; when the upstream is unreachable or failing, the last stored answer stands in, flagged stale.
    /// </summary>
    private async Task RefsAsync(GatewayRequest request, CacheKey key, UpstreamRequest upstreamRequest)
    {
        UpstreamFailedException failure;
        try
        {
            await using var response = await upstream.SendAsync(request.Client, upstreamRequest, request.Aborted);
            if (response.Status == 200)
            {
                var options1 = new CacheEntryOptions { ContentType = response.ContentType, TimeToLive = options.MetadataTtl };
                var entry = await cache.PutAsync(key, response.Body, options1, request.Aborted);
                if (await ResponseWriter.ServeEntryAsync(request, cache.OpenRead(entry, countAsHit: false), entry, "bypass", counters, logger))
                {
                    counters.Bypass();
                    return;
                }

                throw new UpstreamFailedException("the ref advertisement was evicted from the cache as soon as it was stored");
            }

            if (response.Status < 500)
            {
                var prefix = await response.ReadPrefixAsync(MaxErrorBody, request.Aborted);
                counters.Bypass();
                await ResponseWriter.PassStatusAsync(request, new UpstreamStatusException(response.Status, response.ContentType, prefix), counters);
                return;
            }

            failure = new UpstreamFailedException($"the upstream answered {response.Status}");
        }
        catch (UpstreamFailedException ex) when (!request.Http.Response.HasStarted)
        {
            failure = ex;
        }

        if (cache.Lookup(key).Entry is { } stored
            && await ResponseWriter.ServeEntryAsync(request, cache.OpenRead(stored), stored, "stale", counters, logger))
        {
            logger.LogInformation("gateway: served stale git refs for {Key}: {Error}", key.ToString(), failure.Message);
            counters.Stale();
            return;
        }

        throw failure;
    }
}
