using Cleanroom.Gateway.Server;
using Cleanroom.Images.Registry;

namespace Cleanroom.Gateway.Routes.Oci;

/// <summary>How the OCI pull-through reaches registries and what it accepts from them.</summary>
public sealed record OciPullThroughOptions
{
    /// <summary>
    /// Upstream base URLs by registry host (<see cref="GatewayOptions.Upstreams"/>): requests for the host go there
    /// instead of <c>https://host/</c>; the policy is still checked against the host. For Docker Hub the key is
    /// <c>docker.io</c> (or <c>registry-1.docker.io</c>).
    /// </summary>
    public IReadOnlyDictionary<string, Uri> Upstreams { get; init; } = new Dictionary<string, Uri>(StringComparer.Ordinal);

    /// <summary>
    /// Registry credentials, held on the host only (a Docker config: <see cref="RegistryCredentialStore.FromDockerConfig"/>).
    /// Guests never see them; what they fetch is cached under a scope derived from them.
    /// </summary>
    public RegistryCredentialStore Credentials { get; init; } = RegistryCredentialStore.Empty;

    /// <summary>How long a tag's manifest counts as fresh before the registry is asked again.</summary>
    public TimeSpan TagTimeToLive { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Largest manifest or index accepted (the distribution spec's recommended 4 MiB).</summary>
    public int MaxManifestBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>
    /// Longest wait for an upstream's response headers, and for each further piece of a body. A whole fetch is bounded
    /// by the cache's <see cref="Cache.ContentCacheOptions.FetchTimeout"/>, which runs it.
    /// </summary>
    public TimeSpan UpstreamTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Tries per upstream request before a transient failure (5xx, 429, connection) counts as the upstream being down.</summary>
    public int MaxAttempts { get; init; } = 3;

    /// <summary>The wait before the first retry; it doubles with each further one.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>The options for a gateway: its upstream overrides and timeouts, with <paramref name="credentials"/>.</summary>
    public static OciPullThroughOptions FromGateway(GatewayOptions gateway, RegistryCredentialStore credentials)
    {
        ArgumentNullException.ThrowIfNull(gateway);
        ArgumentNullException.ThrowIfNull(credentials);
        return new OciPullThroughOptions
        {
            Upstreams = gateway.Upstreams,
            Credentials = credentials,
            TagTimeToLive = gateway.MetadataTtl,
            UpstreamTimeout = gateway.UpstreamHeadersTimeout,
        };
    }

    /// <summary>Throws when a value is out of its range.</summary>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Upstreams);
        ArgumentNullException.ThrowIfNull(Credentials);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(TagTimeToLive, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxManifestBytes, 1024);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(UpstreamTimeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxAttempts, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(InitialBackoff, TimeSpan.Zero);
        foreach (var (host, uri) in Upstreams)
        {
            if (!uri.IsAbsoluteUri || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
            {
                throw new ArgumentException($"the upstream for {host} must be an absolute http(s) URL, not '{uri}'", nameof(Upstreams));
            }
        }
    }
}
