using System.Net;
using Cleanroom.Gateway.Cache;
using Cleanroom.Gateway.Routes.Oci;
using Cleanroom.Gateway.Server;
using Cleanroom.Images.Registry;
using Cleanroom.TestSupport;

namespace Cleanroom.Gateway.Tests.Oci;

/// <summary>
/// One test's gateway side: a content cache in a scratch directory (on a clock the test moves), a recording proxy in
/// front of the real registry (the "upstream log": every request the pull-through sent upstream) and the
/// pull-through, whose upstream for <see cref="Host"/> is that proxy.
/// </summary>
internal sealed class OciHarness : IAsyncDisposable
{
    /// <summary>The registry name the guest asks for; the policy is checked against it, the proxy answers for it.</summary>
    public const string Host = "registry.test";

    private readonly Scratch _scratch = new();
    private bool _upstreamStopped;

    public OciHarness(Uri registry, RegistryCredentialStore? credentials = null, int maxManifestBytes = 4 << 20, bool forwardAuthorization = false,
        string host = Host, Func<HttpListenerContext, Task>? upstream = null, ContentCache? sharedCache = null)
    {
        Cache = sharedCache ?? OpenCache(_scratch.Path, Clock);
        OwnsCache = sharedCache is null;
        Upstream = LoopbackHttpServer.Start(upstream ?? (context => HttpForwarder.ForwardAsync(context, registry, forwardAuthorization)));
        PullThrough = new OciPullThrough(Cache, new OciPullThroughOptions
        {
            Upstreams = new Dictionary<string, Uri>(StringComparer.Ordinal) { [host] = Upstream.BaseUri },
            Credentials = credentials ?? RegistryCredentialStore.Empty,
            MaxManifestBytes = maxManifestBytes,
            UpstreamTimeout = TimeSpan.FromSeconds(10),
            MaxAttempts = 2,
            InitialBackoff = TimeSpan.FromMilliseconds(10),
        });
    }

    /// <summary>A sandbox whose policy allows <see cref="Host"/> on 443 and nothing else.</summary>
    public static GatewayClient Allowed { get; } = OciTestPolicies.Client($"[{Host}:443]", "sb-allowed");

    public ManualTimeProvider Clock { get; } = new();

    public ContentCache Cache { get; }

    public LoopbackHttpServer Upstream { get; }

    public OciPullThrough PullThrough { get; }

    private bool OwnsCache { get; }

    /// <summary>The cache's files live here.</summary>
    public string CacheDirectory => _scratch.Path;

    public static ContentCache OpenCache(string directory, TimeProvider clock) =>
        new(new ContentCacheOptions { RootDirectory = directory, MaxTotalBytes = 256L << 20, MaxObjectBytes = 16L << 20 }, clock);

    /// <summary>How many requests for a path ending in <paramref name="suffix"/> reached the upstream.</summary>
    public int UpstreamRequests(string suffix) =>
        Upstream.Requests.Count(r => r.PathAndQuery.Split('?')[0].EndsWith(suffix, StringComparison.Ordinal));

    public Task<OciAnswer> Manifest(string repository, string reference, bool head = false, GatewayClient? client = null) =>
        PullThrough.ManifestAsync(client ?? Allowed, Host, repository, reference, head, CancellationToken.None);

    public Task<OciAnswer> Blob(string repository, string digest, bool head = false, GatewayClient? client = null) =>
        PullThrough.BlobAsync(client ?? Allowed, Host, repository, digest, head, CancellationToken.None);

    /// <summary>Reads an answer's body to the end (as the route must) and disposes the answer.</summary>
    public static async Task<byte[]> ReadBody(OciAnswer answer)
    {
        await using (answer)
        {
            Assert.True(answer.IsSuccess, $"{answer.Status} {answer.Reason} {answer.ErrorCode}: {answer.Message}");
            Assert.NotNull(answer.Body);
            var copy = new MemoryStream();
            await answer.Body.CopyToAsync(copy);
            return copy.ToArray();
        }
    }

    /// <summary>Takes the upstream away: its port then refuses connections.</summary>
    public async Task StopUpstreamAsync()
    {
        _upstreamStopped = true;
        await Upstream.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        PullThrough.Dispose();
        if (!_upstreamStopped)
        {
            await Upstream.DisposeAsync();
        }

        if (OwnsCache)
        {
            Cache.Dispose();
        }

        _scratch.Dispose();
    }
}
