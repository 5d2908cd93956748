using Cleanroom.Gateway.Cache;
using Cleanroom.Gateway.Server;
using Cleanroom.Gateway.Upstream;
using Microsoft.AspNetCore.Http;

namespace Cleanroom.Gateway.Routes.RubyGems;

/// <summary>
/// <c>/rubygems/HOST/…</c>: a gem server through the cache.
/// <list type="bullet">
/// <item>Mutable, kept for <see cref="GatewayOptions.MetadataTtl"/> and served stale when the upstream is down: the
/// compact index (<c>versions</c>, <c>names</c>, <c>info/GEM</c>) and the legacy full index (<c>specs.4.8.gz</c>,
/// <c>latest_specs.4.8.gz</c>, <c>prerelease_specs.4.8.gz</c>, which <c>gem fetch</c> reads).</item>
/// <item>Immutable, cached as long as the cache keeps them: <c>gems/NAME-VERSION[-PLATFORM].gem</c> and
/// <c>quick/Marshal.4.8/NAME-VERSION[-PLATFORM].gemspec.rz</c>.</item>
/// </list>
/// The compact index is append-only and Bundler asks for the new tail with <c>Range</c> (and <c>If-None-Match</c>);
/// the gateway forwards neither and always answers 200 with the whole body and no ETag, which Bundler takes as a
/// full replacement of its copy.
/// </summary>
internal sealed class RubyGemsRoute(CachedUpstream cached, GatewayOptions options, RouteCounterSet.Counters counters)
{
    /// <summary>Longest gem or file name accepted.</summary>
    public const int MaxNameLength = 255;

    private static readonly HashSet<string> MutableFiles = new(StringComparer.Ordinal)
    {
        "versions", "names", "specs.4.8.gz", "latest_specs.4.8.gz", "prerelease_specs.4.8.gz",
    };

    public async Task HandleAsync(GatewayRequest request)
    {
        var segments = request.Target.Segments;
        var host = RouteHelpers.Host(request, 1);
        var method = request.Http.Request.Method;
        if (!HttpMethods.IsGet(method) && !HttpMethods.IsHead(method))
        {
            throw new GatewayRefusalException(403, ReasonCode.MethodNotAllowed, "/rubygems/ serves GET and HEAD only");
        }

        if (request.Target.Query is not null)
        {
            throw new GatewayRefusalException(400, ReasonCode.InvalidRequest, "gem server paths take no query");
        }

        var rest = segments.Skip(2).ToList();
        bool mutable;
        if (rest.Count == 1 && MutableFiles.Contains(rest[0]))
        {
            mutable = true;
        }
        else if (rest.Count == 2 && rest[0] == "info" && IsName(rest[1]))
        {
            mutable = true;
        }
        else if (rest.Count == 2 && rest[0] == "gems" && rest[1].EndsWith(".gem", StringComparison.Ordinal) && IsName(rest[1]))
        {
            mutable = false;
        }
        else if (rest.Count == 3 && rest[0] == "quick" && rest[1] == "Marshal.4.8"
            && rest[2].EndsWith(".gemspec.rz", StringComparison.Ordinal) && IsName(rest[2]))
        {
            mutable = false;
        }
        else if (rest.Count == 0 || rest.Any(s => s.Length == 0))
        {
            throw new GatewayRefusalException(400, ReasonCode.InvalidRequest, "the path names no gem server file");
        }
        else if (rest.Any(s => !IsName(s)))
        {
            throw new GatewayRefusalException(400, ReasonCode.InvalidRequest, "a gem or file name has characters outside A-Z, a-z, 0-9, '.', '_' and '-'");
        }
        else
        {
            throw new GatewayRefusalException(
                404, ReasonCode.RouteNotFound, "/rubygems/HOST/ serves versions, names, info/GEM, the specs indexes, gems/ and quick/Marshal.4.8/ only");
        }

        RouteHelpers.CheckPolicy(request, host);

        // Only checked names reach the path, so the decoded segments are the upstream path as well.
        var path = "/" + string.Join('/', rest);
        var scope = cached.Upstream.ScopeFor(host);
        var key = GatewayKeys.Make("rubygems", mutable ? "index" : "file", scope, host + path);
        var upstream = new UpstreamRequest(HttpMethod.Get, host, path, []);
        var entry = mutable ? new CacheEntryOptions { TimeToLive = options.MetadataTtl } : CacheEntryOptions.Immutable;
        await cached.ServeAsync(request, key, upstream, entry, counters);
    }

    /// <summary>A gem name, version or file name: ASCII letters, digits, <c>.</c>, <c>_</c>, <c>-</c>, not starting with a dot.</summary>
    private static bool IsName(string name) =>
        name.Length is > 0 and <= MaxNameLength && name[0] != '.'
        && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');
}
