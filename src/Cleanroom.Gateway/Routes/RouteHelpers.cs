using Cleanroom.Escaping;
using Cleanroom.Gateway.Server;
using Cleanroom.Gateway.Upstream;
using Cleanroom.Policy;
using Microsoft.AspNetCore.Http;

namespace Cleanroom.Gateway.Routes;

/// <summary>What every upstream route checks the same way: the host segment, the policy, forwarded headers.</summary>
internal static class RouteHelpers
{
    private const int MaxForwardedHeaderLength = 1024;

    /// <summary>
    /// The host in segment <paramref name="index"/>, normalised: no port, no user info, no encoded slash, a valid DNS
    /// name (addresses are not accepted: policies speak of names). Refuses with 400 <c>invalid_request</c>.
    /// </summary>
    public static string Host(GatewayRequest request, int index)
    {
        var segments = request.Target.Segments;
        if (segments.Count <= index || segments[index].Length == 0)
        {
            throw new GatewayRefusalException(400, ReasonCode.InvalidRequest, "the path names no upstream host");
        }

        var raw = request.Target.RawSegments[index];
        var text = segments[index];
        string? problem = null;
        if (raw.Contains("%2f", StringComparison.OrdinalIgnoreCase) || text.Contains('/', StringComparison.Ordinal))
        {
            problem = "it contains an encoded slash";
        }
        else if (text.Contains('@', StringComparison.Ordinal))
        {
            problem = "it contains user info ('@')";
        }
        else if (text.Contains(':', StringComparison.Ordinal))
        {
            problem = "it names a port (the gateway always uses the host's standard port)";
        }
        else if (!HostNames.TryNormalize(text, out var host, out var why) || text != text.Trim())
        {
            problem = why.Length > 0 ? why : "it has surrounding spaces";
        }
        else
        {
            request.Host = host;
            return host;
        }

        throw new GatewayRefusalException(400, ReasonCode.InvalidRequest, $"the upstream host {UntrustedText.Quote(text)} is not usable: {problem}");
    }

    /// <summary>Refuses (403 <c>host_not_allowed</c>) a host the sandbox's policy does not allow on 443.</summary>
    public static void CheckPolicy(GatewayRequest request, string host)
    {
        if (!UpstreamClient.Allowed(request.Client, host, 443))
        {
            throw new GatewayRefusalException(403, ReasonCode.HostNotAllowed, $"the sandbox's network policy does not allow {host}:443");
        }
    }

    /// <summary>The named request headers, each checked (bounded, printable), for passing upstream.</summary>
    public static List<KeyValuePair<string, string>> Forwarded(HttpRequest request, params string[] names)
    {
        var list = new List<KeyValuePair<string, string>>();
        foreach (var name in names)
        {
            var values = request.Headers[name];
            if (values.Count == 0)
            {
                continue;
            }

            var value = values.Count == 1 ? values[0] ?? "" : string.Join(", ", values.ToArray());
            if (value.Length > MaxForwardedHeaderLength || value.Any(c => c is < ' ' or > '~'))
            {
                throw new GatewayRefusalException(400, ReasonCode.InvalidRequest, $"the {name} header is too long or has control characters");
            }

            list.Add(new(name, value));
        }

        return list;
    }
}
