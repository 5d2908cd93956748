using System.Net;

namespace Cleanroom.Gateway.Server;

/// <summary>How the gateway listens, where it sends upstream requests, and its per-sandbox bounds.</summary>
public sealed record GatewayOptions
{
    /// <summary>The port guests connect to on their gateway address (<c>gateway.cleanroom.internal:8170</c>).</summary>
    public const int GuestPort = 8170;

    /// <summary>The name guests use for the gateway; the DNS filter answers it with the sandbox's host-side address.</summary>
    public const string GuestHostName = "gateway.cleanroom.internal";

    /// <summary>Where Kestrel listens (the firewall redirects guests' port 8170 here). Port 0 picks a free one.</summary>
    public required IReadOnlyList<IPEndPoint> ListenEndpoints { get; init; }

    /// <summary>
    /// Upstream base URLs by host name (<c>--gateway-upstream HOST=URL</c>): requests for HOST go to URL instead of
    /// <c>https://HOST</c>. The policy is still checked against HOST, the name the guest asked for. For internal
    /// mirrors, and for tests whose upstreams run on loopback.
    /// </summary>
    public IReadOnlyDictionary<string, Uri> Upstreams { get; init; } = new Dictionary<string, Uri>(StringComparer.Ordinal);

    /// <summary>The credentials file (<c>--gateway-credentials</c>), or null for none.</summary>
    public string? CredentialsFile { get; init; }

    /// <summary>
    /// A Docker <c>config.json</c> whose <c>auths</c> hold registry credentials for the OCI routes
    /// (<c>--gateway-registry-auth</c>), or null for none (registries are then spoken to anonymously). The default
    /// Docker config of the daemon's user is never read implicitly.
    /// </summary>
    public string? RegistryAuthFile { get; init; }

    /// <summary>Most requests one sandbox may have in flight at once; more get 429 <c>rate_limited</c>.</summary>
    public int MaxConcurrentRequestsPerSandbox { get; init; } = 32;

    /// <summary>Sustained requests per second per sandbox (a token bucket with <see cref="RequestBurstPerSandbox"/>).</summary>
    public int RequestsPerSecondPerSandbox { get; init; } = 200;

    /// <summary>The token bucket's size.</summary>
    public int RequestBurstPerSandbox { get; init; } = 400;

    /// <summary>Largest request body (a git upload-pack negotiation); bigger gets 413.</summary>
    public long MaxRequestBodyBytes { get; init; } = 64L << 20;

    /// <summary>Largest request line and headers together.</summary>
    public int MaxRequestHeaderBytes { get; init; } = 32 << 10;

    /// <summary>Longest wait for an upstream's response headers.</summary>
    public TimeSpan UpstreamHeadersTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Longest a whole upstream transfer may take.</summary>
    public TimeSpan UpstreamTransferTimeout { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// The gateway's base URL as guests reach it, written into metadata that must carry absolute URLs back to the
    /// gateway (npm tarball links). Tests on loopback set their own.
    /// </summary>
    public Uri PublicBaseUrl { get; init; } = new($"http://{GuestHostName}:{GuestPort}");

    /// <summary>How long a mutable answer (git refs, unpinned metadata) counts as fresh.</summary>
    public TimeSpan MetadataTtl { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Host-side mirrors the git route falls back on (the daemon's repository store), or null for none. See
    /// docs/gateway.md: a mirror answers only a sandbox whose credential scope fetched the repository before.
    /// </summary>
    public IGitMirrors? GitMirrors { get; init; }

    /// <summary>
    /// When a mirror could answer, how long the git route waits for the upstream before it does: for a ref
    /// advertisement, the upstream's response headers; for a pack, the whole answer (which keeps being fetched into
    /// the cache meanwhile). Without a usable mirror the route waits <see cref="UpstreamHeadersTimeout"/> as always.
    /// </summary>
    public TimeSpan GitMirrorFallbackAfter { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Longest one answer from a mirror (one <c>git upload-pack</c>) may take before it is killed.</summary>
    public TimeSpan GitMirrorTimeout { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>Most bytes one answer from a mirror may send; past this the process is killed and the connection cut.</summary>
    public long GitMirrorMaxResponseBytes { get; init; } = 8L << 30;
}
