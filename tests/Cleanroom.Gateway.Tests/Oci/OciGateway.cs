using System.Net;
using System.Text.Json;
using Cleanroom.Gateway.Server;
using Cleanroom.Gateway.Tests.Server;
using Cleanroom.TestSupport;

namespace Cleanroom.Gateway.Tests.Oci;

/// <summary>
/// A real gateway whose registry routes reach a real docker-registry through a recording proxy (the "upstream log"):
/// <see cref="Host"/> and Docker Hub (<c>docker.io</c>, the mirror route's registry) both map to that proxy.
/// </summary>
internal sealed class OciGateway : IAsyncDisposable
{
    /// <summary>The registry name guests ask for under <c>/registry/</c>.</summary>
    public const string Host = "registry.test";

    /// <summary>A policy that allows the test registry and Docker Hub.</summary>
    public const string AllowBoth = "[\"registry.test:443\", \"docker.io:443\"]";

    private bool _upstreamStopped;

    private OciGateway(LoopbackHttpServer upstream, GatewayHarness gateway)
    {
        Upstream = upstream;
        Gateway = gateway;
    }

    public LoopbackHttpServer Upstream { get; }

    public GatewayHarness Gateway { get; }

    public HttpClient Http => Gateway.Http;

    /// <summary>The registry route's counters.</summary>
    public GatewayRouteCounters Counters => Gateway.Counters("registry");

    public static async Task<OciGateway> StartAsync(
        Uri registry, string allow = AllowBoth, bool forwardAuthorization = false, TimeProvider? cacheClock = null,
        Func<GatewayOptions, GatewayOptions>? configure = null)
    {
        var upstream = LoopbackHttpServer.Start(context => HttpForwarder.ForwardAsync(context, registry, forwardAuthorization));
        try
        {
            var upstreams = new Dictionary<string, Uri>(StringComparer.Ordinal) { [Host] = upstream.BaseUri, ["docker.io"] = upstream.BaseUri };
            var gateway = await GatewayHarness.StartAsync(upstreams, allow, configure, cacheClock: cacheClock);
            return new OciGateway(upstream, gateway);
        }
        catch
        {
            await upstream.DisposeAsync();
            throw;
        }
    }

    /// <summary>How many requests whose path ends in <paramref name="suffix"/> reached the upstream.</summary>
    public int UpstreamRequests(string suffix) =>
        Upstream.Requests.Count(r => r.PathAndQuery.Split('?')[0].EndsWith(suffix, StringComparison.Ordinal));

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, HttpContent? content = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        return await Http.SendAsync(request);
    }

    /// <summary>Takes the upstream away: its port then refuses connections.</summary>
    public async Task StopUpstreamAsync()
    {
        _upstreamStopped = true;
        await Upstream.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await Gateway.DisposeAsync();
        if (!_upstreamStopped)
        {
            await Upstream.DisposeAsync();
        }
    }

    /// <summary>The one header value of <paramref name="name"/> (response or content headers), or null.</summary>
    public static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values) ? values.Single() : null;

    /// <summary>Asserts a distribution-spec error answer: status, reason header, error code, API version header.</summary>
    public static async Task AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, string? reason, string errorCode)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"{(int)response.StatusCode}: {body}");
        Assert.Equal(reason, Header(response, GatewayServer.ReasonHeader));
        Assert.Equal("registry/2.0", Header(response, "Docker-Distribution-API-Version"));
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(body);
        var error = json.RootElement.GetProperty("errors")[0];
        Assert.Equal(errorCode, error.GetProperty("code").GetString());
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
    }
}
