using System.Text;
using Cleanroom.Gateway.Cache;
using Cleanroom.Gateway.Server;
using Cleanroom.Gateway.Upstream;
using Microsoft.AspNetCore.Http;

namespace Cleanroom.Gateway.Routes.PyPi;

/// <summary>
/// <c>/pypi/HOST/…</c>: a Python package index (PEP 503 HTML and PEP 691 JSON simple API) through the cache.
/// <list type="bullet">
/// <item><c>/pypi/HOST/simple/</c> and <c>/pypi/HOST/simple/PROJECT/</c>: mutable, kept for
/// <see cref="GatewayOptions.MetadataTtl"/> per project (PEP 503 normalised) and <c>Accept</c> header, served stale
/// when the upstream is down. File links are rewritten to come back through this route.</item>
/// <item>Any other path whose last segment is a distribution file (<c>.whl</c>, <c>.tar.gz</c>, …, PEP 658
/// <c>.metadata</c>): immutable, cached as long as the cache keeps it. <c>/pypi/sha256:HEX/HOST/PATH</c> (what
/// rewritten links with a known SHA-256 become) must hash to HEX: a mismatch stores nothing and answers 502
/// <c>digest_mismatch</c>.</item>
/// </list>
/// A project page asked for under another spelling, or without its trailing slash, is redirected (301) to its
/// normalised form, so relative links always resolve against the same URL.
/// </summary>
internal sealed class PyPiRoute(CachedUpstream cached, GatewayOptions options, RouteCounterSet.Counters counters)
{
    /// <summary>Largest index page read (and rewritten); bigger is an upstream error.</summary>
    public const long MaxPageBytes = 64L << 20;

    private const string JsonType = "application/vnd.pypi.simple.v1+json";
    private const string HtmlType = "application/vnd.pypi.simple.v1+html";

    public async Task HandleAsync(GatewayRequest request)
    {
        var segments = request.Target.Segments;
        BlobDigest? pin = null;
        if (segments.Count > 1 && segments[1].StartsWith("sha256:", StringComparison.OrdinalIgnoreCase))
        {
            if (segments[1].Length != 71 || !BlobDigest.TryParse(segments[1], out var digest))
            {
                throw new GatewayRefusalException(400, ReasonCode.InvalidRequest, "a pinned file needs sha256: and 64 hex digits");
            }

            pin = digest;
        }

        var hostIndex = pin is null ? 1 : 2;
        var host = RouteHelpers.Host(request, hostIndex);
        if (segments.Count < hostIndex + 2 || segments[hostIndex + 1].Length == 0)
        {
            throw new GatewayRefusalException(400, ReasonCode.InvalidRequest, "the path names nothing on the index host");
        }

        var method = request.Http.Request.Method;
        if (!HttpMethods.IsGet(method) && !HttpMethods.IsHead(method))
        {
            throw new GatewayRefusalException(403, ReasonCode.MethodNotAllowed, "/pypi/ serves GET and HEAD only");
        }

        RouteHelpers.CheckPolicy(request, host);
        if (PyPiNames.IsDistributionFile(segments[^1]))
        {
            // Clients fetch PEP 658 metadata at the file's URL plus ".metadata": the file's digest is not its digest.
            await ServeFileAsync(request, host, hostIndex + 1, segments[^1].EndsWith(".metadata", StringComparison.OrdinalIgnoreCase) ? null : pin);
            return;
        }

        if (pin is not null)
        {
            throw new GatewayRefusalException(404, ReasonCode.RouteNotFound, "only distribution files can be pinned");
        }

        if (segments[2] != "simple" || segments.Count > 5 || (segments.Count == 5 && segments[4].Length > 0))
        {
            throw new GatewayRefusalException(404, ReasonCode.RouteNotFound, "/pypi/HOST/ serves simple/, simple/PROJECT/ and distribution files only");
        }

        if (request.Target.Query is not null)
        {
            throw new GatewayRefusalException(400, ReasonCode.InvalidRequest, "simple index pages take no query");
        }

        if (segments.Count == 3)
        {
            Redirect(request, $"/pypi/{host}/simple/");
            return;
        }

        if (segments.Count == 4 && segments[3].Length == 0)
        {
            await ServePageAsync(request, host, "/simple/");
            return;
        }

        if (!PyPiNames.TryNormalizeProject(segments[3], out var project))
        {
            throw new GatewayRefusalException(400, ReasonCode.InvalidRequest, "the project name is not a valid Python project name (PEP 508)");
        }

        var canonical = $"/simple/{project}/";
        if (segments.Count == 4 || request.Target.RawSegments[3] != project)
        {
            Redirect(request, $"/pypi/{host}{canonical}");
            return;
        }

        await ServePageAsync(request, host, canonical);
    }

    private async Task ServeFileAsync(GatewayRequest request, string host, int pathIndex, BlobDigest? pin)
    {
        var pathAndQuery = request.Target.RawPathFrom(pathIndex) + (request.Target.Query is { } q ? "?" + q : "");
        var scope = cached.Upstream.ScopeFor(host);
        var key = pin is { } digest
            ? GatewayKeys.Make("pypi", "pinned", scope, digest.ToString(), host + pathAndQuery)
            : GatewayKeys.Make("pypi", "file", scope, host + pathAndQuery);
        var upstream = new UpstreamRequest(HttpMethod.Get, host, pathAndQuery, []);
        await cached.ServeAsync(request, key, upstream, new CacheEntryOptions { ExpectedDigest = pin }, counters);
    }

    private async Task ServePageAsync(GatewayRequest request, string host, string path)
    {
        var accept = RouteHelpers.Forwarded(request.Http.Request, "Accept");
        var acceptKey = accept.Count == 0 ? "" : accept[0].Value.Trim();
        var key = GatewayKeys.Make("pypi", "index", cached.Upstream.ScopeFor(host), host + path, acceptKey);
        var upstream = new UpstreamRequest(HttpMethod.Get, host, path, accept);
        var page = new Uri($"https://{host}{path}");
        await cached.ServeAsync(
            request, key, upstream, new CacheEntryOptions { TimeToLive = options.MetadataTtl }, counters,
            (response, token) => RewriteAsync(response, page, token));
    }

    /// <summary>Rewrites the links of an HTML or JSON page; any other content type is an upstream error.</summary>
    private static async Task<Stream> RewriteAsync(UpstreamResponse response, Uri page, CancellationToken cancellationToken)
    {
        var type = response.ContentType.Split(';')[0].Trim().ToLowerInvariant();
        var body = await BoundedBody.ReadAsync(response.Body, MaxPageBytes, "index page", cancellationToken);
        var links = new SimpleLinks(page);
        byte[] rewritten;
        if (type == JsonType)
        {
            rewritten = SimpleJsonRewriter.Rewrite(body, links);
        }
        else if (type is HtmlType or "text/html")
        {
            string html;
            try
            {
                html = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(body);
            }
            catch (DecoderFallbackException)
            {
                throw new UpstreamFailedException("the upstream's index page is not UTF-8");
            }

            rewritten = Encoding.UTF8.GetBytes(SimpleHtmlRewriter.Rewrite(html, links));
        }
        else
        {
            throw new UpstreamFailedException("the upstream's index page is neither HTML nor PEP 691 JSON");
        }

        if (rewritten.LongLength > 2 * MaxPageBytes)
        {
            throw new UpstreamFailedException("the rewritten index page grew past its bound");
        }

        return new MemoryStream(rewritten, writable: false);
    }

    private void Redirect(GatewayRequest request, string location)
    {
        counters.Bypass();
        var response = request.Http.Response;
        response.StatusCode = StatusCodes.Status301MovedPermanently;
        response.Headers.Location = location;
        response.Headers[ResponseWriter.CacheHeader] = "bypass";
        response.ContentLength = 0;
    }
}
