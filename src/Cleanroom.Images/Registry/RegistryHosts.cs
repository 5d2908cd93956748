using System.Net;
using Cleanroom.Oci;

namespace Cleanroom.Images.Registry;

/// <summary>
/// How a registry name (<c>docker.io</c>, <c>ghcr.io</c>, <c>127.0.0.1:5000</c>) becomes a base URL, and how the many
/// spellings of a registry in a Docker config file become that one name.
/// </summary>
internal static class RegistryHosts
{
    /// <summary>Where Docker Hub's registry API actually lives: <c>docker.io</c> is only the name in references.</summary>
    public const string DockerHubApiHost = "registry-1.docker.io";

    /// <summary>The key <c>docker login</c> writes for Docker Hub, a relic of the v1 API.</summary>
    public const string DockerHubConfigKey = "https://index.docker.io/v1/";

    /// <summary>The base URL (scheme, host and port, path <c>/</c>) of the registry's API.</summary>
    public static Uri BaseUri(string registry, IReadOnlyList<string> plainHttpRegistries) =>
        BaseUri(registry, plainHttpRegistries, new Dictionary<string, Uri>(StringComparer.Ordinal));

    /// <summary>
    /// The base URL of the registry's API: its entry in <paramref name="overrides"/> (keys in any spelling; a base
    /// without a trailing slash gets one, so <c>v2/</c> lands below it), else as <see cref="BaseUri(string, IReadOnlyList{string})"/>.
    /// </summary>
    public static Uri BaseUri(string registry, IReadOnlyList<string> plainHttpRegistries, IReadOnlyDictionary<string, Uri> overrides)
    {
        var host = Canonical(registry);
        foreach (var (name, uri) in overrides)
        {
            if (Canonical(name) == host)
            {
                return uri.AbsoluteUri.EndsWith('/') ? uri : new Uri(uri.AbsoluteUri + "/");
            }
        }

        if (host == ImageReference.DockerHub)
        {
            return new Uri("https://" + DockerHubApiHost + "/");
        }

        var plain = IsLoopback(host) || plainHttpRegistries.Any(p => Canonical(p) == host);
        return new Uri((plain ? "http://" : "https://") + host + "/");
    }

    /// <summary>
    /// The registry name a Docker config key or a user-written registry stands for: scheme, path and trailing slash
    /// dropped, lowercased, Docker Hub's aliases folded into <c>docker.io</c>.
    /// </summary>
    public static string Canonical(string registry)
    {
        var name = registry.Trim();
        var scheme = name.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0)
        {
            name = name[(scheme + 3)..];
        }

        var slash = name.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0)
        {
            name = name[..slash];
        }

        name = name.ToLowerInvariant();
        return name is "index.docker.io" or DockerHubApiHost or "docker.io" ? ImageReference.DockerHub : name;
    }

    /// <summary>True for <c>localhost</c>, <c>127.0.0.0/8</c> and <c>[::1]</c>, with or without a port.</summary>
    public static bool IsLoopback(string registry)
    {
        var host = HostPart(Canonical(registry));
        if (host == "localhost")
        {
            return true;
        }

        return IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address);
    }

    /// <summary>The host without its port; keeps IPv6 literals whole (<c>[::1]:5000</c> gives <c>::1</c>).</summary>
    private static string HostPart(string hostAndPort)
    {
        if (hostAndPort.StartsWith('['))
        {
            var close = hostAndPort.IndexOf(']', StringComparison.Ordinal);
            return close > 0 ? hostAndPort[1..close] : hostAndPort;
        }

        var colon = hostAndPort.LastIndexOf(':');
        return colon >= 0 && hostAndPort.IndexOf(':', StringComparison.Ordinal) == colon ? hostAndPort[..colon] : hostAndPort;
    }
}
