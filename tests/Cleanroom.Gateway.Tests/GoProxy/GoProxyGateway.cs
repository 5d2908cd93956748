using System.Net;
using Cleanroom.Gateway.Cache;
using Cleanroom.Gateway.Server;
using Cleanroom.Gateway.Tests.Server;
using Microsoft.Extensions.Logging;

namespace Cleanroom.Gateway.Tests.GoProxy;

/// <summary>
/// A real gateway on 127.0.0.1:0 whose cache runs on a clock the test moves (for TTL and stale cases), with
/// proxy.golang.org and sum.golang.org sent to loopback servers and loopback as the one sandbox.
/// </summary>
internal sealed class GoProxyGateway : IAsyncDisposable
{
    public const string ProxyHost = "proxy.golang.org";
    public const string SumDbHost = "sum.golang.org";

    private readonly Scratch _scratch;

    private GoProxyGateway(Scratch scratch, ContentCache cache, GatewayServer server, RecordingAudit audit, CollectingLogger log, ManualTimeProvider clock)
    {
        _scratch = scratch;
        Cache = cache;
        Server = server;
        Audit = audit;
        Log = log;
        Clock = clock;
        Http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false }) { BaseAddress = BaseUri };
    }

    public ContentCache Cache { get; }

    public GatewayServer Server { get; }

    public RecordingAudit Audit { get; }

    public CollectingLogger Log { get; }

    public ManualTimeProvider Clock { get; }

    public HttpClient Http { get; }

    public Uri BaseUri => new($"http://127.0.0.1:{Server.Endpoints[0].Port}/");

    /// <summary>The GOPROXY value that sends the go command here.</summary>
    public string GoProxyUrl => $"http://127.0.0.1:{Server.Endpoints[0].Port}/goproxy/{ProxyHost}";

    public static async Task<GoProxyGateway> StartAsync(
        Uri proxy, Uri? sumDb = null, string allow = $"[\"{ProxyHost}:443\", \"{SumDbHost}:443\"]", int maxConcurrent = 32)
    {
        var scratch = new Scratch();
        var clock = new ManualTimeProvider();
        var cache = new ContentCache(new ContentCacheOptions { RootDirectory = Path.Combine(scratch.Path, "cache"), MaxTotalBytes = 1L << 30 }, clock);
        var upstreams = new Dictionary<string, Uri>(StringComparer.Ordinal) { [ProxyHost] = proxy };
        if (sumDb is not null)
        {
            upstreams[SumDbHost] = sumDb;
        }

        var options = new GatewayOptions
        {
            ListenEndpoints = [new IPEndPoint(IPAddress.Loopback, 0)],
            Upstreams = upstreams,
            UpstreamHeadersTimeout = TimeSpan.FromSeconds(20),
            MaxConcurrentRequestsPerSandbox = maxConcurrent,
        };
        var client = new GatewayClient(GatewayHarness.SandboxId, GatewayHarness.Policy(allow), AllowAll: false);
        var audit = new RecordingAudit();
        var log = new CollectingLogger();
        var loggers = LoggerFactory.Create(b => b.AddProvider(log));
        try
        {
            var server = await GatewayServer.StartAsync(options, cache, new GatewayHarness.LoopbackClients(client), audit, loggers, CancellationToken.None);
            return new GoProxyGateway(scratch, cache, server, audit, log, clock);
        }
        catch
        {
            cache.Dispose();
            scratch.Dispose();
            throw;
        }
    }

    public GatewayRouteCounters Counters() => Server.Statistics().Single(c => c.Route == "goproxy");

    /// <summary>
    /// The counters once <paramref name="done"/> holds: a route counts an answer after its last byte went out, so a
    /// client that has read the whole answer can look a moment before the count moves.
    /// </summary>
    public async Task<GatewayRouteCounters> CountersWhenAsync(Func<GatewayRouteCounters, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        var counters = Counters();
        while (!done(counters) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
            counters = Counters();
        }

        return counters;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
        Cache.Dispose();
        _scratch.Dispose();
    }
}
