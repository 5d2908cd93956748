using Cleanroom.Gateway.Cache;
using Cleanroom.Gateway.Server;
using Cleanroom.Gateway.Upstream;
using Cleanroom.Policy;
using Microsoft.AspNetCore.Http;

namespace Cleanroom.Gateway.Routes.Npm;

/// <summary>
/// <c>/npm/HOST/NAME</c> (packuments, mutable: kept for <see cref="GatewayOptions.MetadataTtl"/>, served stale when
/// the upstream is down, tarball links rewritten to point back here) and <c>/npm/HOST/NAME/-/FILE.tgz</c>
/// (tarballs, immutable). GET and HEAD only: publishing, login and the <c>/-/</c> API are not served.
/// </summary>
internal sealed class NpmRoute(CachedUpstream cached, GatewayOptions options, RouteCounterSet.Counters counters)
{
    /// <summary>Largest packument accepted from an upstream (the biggest public ones are tens of megabytes).</summary>
    public const int MaxPackumentBytes = 64 << 20;

    /// <summary>The media type of npm's abbreviated ("corgi") packument.</summary>
    public const string AbbreviatedMediaType = "application/vnd.npm.install-v1+json";

    private const string AbbreviatedAccept = AbbreviatedMediaType + "; q=1.0, application/json; q=0.8, */*";

    private readonly string _base = options.PublicBaseUrl.GetLeftPart(UriPartial.Path).TrimEnd('/');

    public async Task HandleAsync(GatewayRequest request)
    {
        var segments = request.Target.Segments;
        var host = RouteHelpers.Host(request, 1);
        var method = request.Http.Request.Method;
        if (!HttpMethods.IsGet(method) && !HttpMethods.IsHead(method))
        {
            throw new GatewayRefusalException(
                403, ReasonCode.MethodNotAllowed, "/npm/ serves GET and HEAD only (no publish, login, audit or other writes)");
        }

        if (!NpmPath.TryParse([.. segments.Skip(2)], out var target, out var failure, out var problem))
        {
            throw failure == NpmPath.Failure.NotServed
                ? new GatewayRefusalException(404, ReasonCode.RouteNotFound, problem)
                : new GatewayRefusalException(400, ReasonCode.InvalidRequest, problem);
        }

        if (request.Target.Query is not null)
        {
            throw new GatewayRefusalException(400, ReasonCode.InvalidRequest, "/npm/ takes no query");
        }

        RouteHelpers.CheckPolicy(request, host);
        var scope = cached.Upstream.ScopeFor(host);
        if (target!.IsTarball)
        {
            var key = GatewayKeys.Make("npm", "tarball", scope, host + target.UpstreamPath);
            var upstreamRequest = new UpstreamRequest(HttpMethod.Get, host, target.UpstreamPath, []);
            await cached.ServeAsync(request, key, upstreamRequest, CacheEntryOptions.Immutable, counters);
            return;
        }

        var abbreviated = request.Http.Request.Headers.Accept.Any(
            value => value is not null && value.Contains(AbbreviatedMediaType, StringComparison.OrdinalIgnoreCase));
        // The stored packument holds links to the gateway's public URL, so a changed URL must not find old links.
        var packumentKey = GatewayKeys.Make("npm", "packument", scope, host + target.UpstreamPath, abbreviated ? "abbreviated" : "full", _base);
        var packumentRequest = new UpstreamRequest(
            HttpMethod.Get, host, target.UpstreamPath, [new("Accept", abbreviated ? AbbreviatedAccept : "application/json")]);
        await cached.ServeAsync(
            request, packumentKey, packumentRequest, new CacheEntryOptions { TimeToLive = options.MetadataTtl }, counters, RewriteAsync);
    }

    /// <summary>Reads a packument (bounded), checks it is JSON and points its tarball links at the gateway.</summary>
    private async Task<Stream> RewriteAsync(UpstreamResponse response, CancellationToken cancellationToken)
    {
        if (response.ContentLength > MaxPackumentBytes)
        {
            throw new UpstreamFailedException($"the packument is larger than {MaxPackumentBytes} bytes");
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await response.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > MaxPackumentBytes)
            {
                throw new UpstreamFailedException($"the packument is larger than {MaxPackumentBytes} bytes");
            }

            buffer.Write(chunk, 0, read);
        }

        try
        {
            return new MemoryStream(NpmPackumentRewriter.Rewrite(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), TarballUrl));
        }
        catch (InvalidDataException ex)
        {
            throw new UpstreamFailedException(ex.Message, ex);
        }
    }

    /// <summary>
    /// The gateway URL for an upstream tarball link, or null (kept as it is) when the link is not a plain
    /// <c>http(s)://HOST/NAME/-/FILE.tgz</c> on a standard port, with a DNS name and nothing else.
    /// </summary>
    internal string? TarballUrl(string link)
    {
        if (!Uri.TryCreate(link, UriKind.Absolute, out var uri)
            || uri.Scheme is not ("https" or "http")
            || !uri.IsDefaultPort
            || uri.UserInfo.Length > 0
            || uri.Query.Length > 0
            || uri.Fragment.Length > 0
            || uri.HostNameType != UriHostNameType.Dns
            || !HostNames.TryNormalize(uri.IdnHost, out var host, out _))
        {
            return null;
        }

        // The path as the upstream wrote it (Uri would have removed dot segments and unescaped some characters).
        var authority = link.IndexOf("://", StringComparison.Ordinal) + 3;
        var slash = link.IndexOf('/', authority);
        if (slash < 0
            || !RequestTarget.TryParse(link[slash..], out var parsed, out _)
            || parsed!.Query is not null
            || !NpmPath.TryParse(parsed.Segments, out var target, out _, out _)
            || !target!.IsTarball)
        {
            return null;
        }

        return $"{_base}/npm/{host}{target.UpstreamPath}";
    }
}
