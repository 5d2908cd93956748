using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Cleanroom.Gateway.Cache;
using Cleanroom.Gateway.Server;
using Cleanroom.Policy;
using Microsoft.Extensions.Logging;

namespace Cleanroom.Gateway.Tests.Server;

/// <summary>
/// A real gateway on 127.0.0.1:0 over a real cache, with loopback as the one sandbox (unless told otherwise), its
/// policy compiled from YAML, and every refusal recorded.
/// </summary>
internal sealed class GatewayHarness : IAsyncDisposable
{
    public const string SandboxId = "sbx-test";

    private readonly Scratch _scratch;

    private GatewayHarness(Scratch scratch, ContentCache cache, GatewayServer server, RecordingAudit audit, CollectingLogger log)
    {
        Log = log;
        _scratch = scratch;
        Cache = cache;
        Server = server;
        Audit = audit;
        Http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false }) { BaseAddress = BaseUri, Timeout = TimeSpan.FromMinutes(2) };
    }

    public ContentCache Cache { get; }

    /// <summary>What the gateway logged (show it in assertion messages).</summary>
    public CollectingLogger Log { get; }

    public GatewayServer Server { get; }

    public RecordingAudit Audit { get; }

    public HttpClient Http { get; }

    public int Port => Server.Endpoints[0].Port;

    public Uri BaseUri => new($"http://127.0.0.1:{Port}/");

    /// <summary>The scratch directory (cache under <c>cache/</c>).</summary>
    public string Root => _scratch.Path;

    /// <summary>A network policy from a YAML allow list such as <c>["git.example.test:443"]</c>.</summary>
    public static NetworkPolicy Policy(string allow, string deny = "[]")
    {
        const string Image = "ghcr.io/buildkite/cleanroom-base/debian@sha256:aaaaaaaa0123456789abcdef0123456789abcdef0123456789abcdefbbbbbbbb";
        var yaml = $"version: 1\nsandbox:\n  image:\n    ref: {Image}\n  network:\n    allow: {allow}\n    deny: {deny}\n";
        var result = PolicyCompiler.Compile(yaml, "test.yaml");
        Assert.True(result.IsValid, string.Join("\n", result.Diagnostics));
        return result.Policy!.Network;
    }

    public static async Task<GatewayHarness> StartAsync(
        IReadOnlyDictionary<string, Uri> upstreams,
        string allow = "[\"git.example.test:443\", \"files.example.test:443\"]",
        Func<GatewayOptions, GatewayOptions>? configure = null,
        bool knownClient = true,
        string? credentials = null,
        TimeProvider? cacheClock = null,
        string? cacheDirectory = null)
    {
        var scratch = new Scratch();
        var cache = new ContentCache(
            new ContentCacheOptions { RootDirectory = cacheDirectory ?? Path.Combine(scratch.Path, "cache"), MaxTotalBytes = 1L << 30 }, cacheClock);
        var options = new GatewayOptions
        {
            ListenEndpoints = [new IPEndPoint(IPAddress.Loopback, 0)],
            Upstreams = upstreams,
            UpstreamHeadersTimeout = TimeSpan.FromSeconds(20),
        };
        if (credentials is not null)
        {
            var file = Path.Combine(scratch.Path, "credentials.json");
            File.WriteAllText(file, credentials);
            File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            options = options with { CredentialsFile = file };
        }

        options = configure?.Invoke(options) ?? options;
        var client = new GatewayClient(SandboxId, Policy(allow), AllowAll: false);
        var audit = new RecordingAudit();
        var log = new CollectingLogger();
        var loggers = LoggerFactory.Create(b => b.AddProvider(log));
        try
        {
            var server = await GatewayServer.StartAsync(
                options, cache, new LoopbackClients(knownClient ? client : null), audit, loggers, CancellationToken.None);
            return new GatewayHarness(scratch, cache, server, audit, log);
        }
        catch
        {
            cache.Dispose();
            scratch.Dispose();
            throw;
        }
    }

    /// <summary>The counters of one route.</summary>
    public GatewayRouteCounters Counters(string route) => Server.Statistics().Single(c => c.Route == route);

    /// <summary>
    /// Sends <paramref name="target"/> exactly as written (no client-side normalisation) and returns the status and
    /// headers of the answer.
    /// </summary>
    /// <remarks>
    /// The body is written while the answer is read, and a failed write is ignored: a server that refuses a body
    /// answers and closes without reading it, and that must not fail the test that checks the answer.
    /// </remarks>
    public async Task<(int Status, Dictionary<string, string> Headers)> RawAsync(
        string target, string method = "GET", string extraHeaders = "", byte[]? body = null)
    {
        using var socket = new TcpClient();
        await socket.ConnectAsync(IPAddress.Loopback, Port);
        var stream = socket.GetStream();
        var request = $"{method} {target} HTTP/1.1\r\nHost: gateway.cleanroom.internal\r\n{extraHeaders}Connection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.Latin1.GetBytes(request));
        var writing = body is null ? Task.CompletedTask : Task.Run(async () =>
        {
            try
            {
                await stream.WriteAsync(body);
            }
            catch (IOException)
            {
                // Refused without being read.
            }
        });
        using var reader = new StreamReader(stream, Encoding.Latin1);
        var statusLine = await reader.ReadLineAsync() ?? throw new IOException("no answer");
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        string? line;
        while (!string.IsNullOrEmpty(line = await reader.ReadLineAsync()))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            headers[line[..colon]] = line[(colon + 1)..].Trim();
        }

        await writing;
        return (int.Parse(statusLine.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture), headers);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
        Cache.Dispose();
        _scratch.Dispose();
    }

    /// <summary>Every source address is the one sandbox (or none).</summary>
    internal sealed class LoopbackClients(GatewayClient? client) : IGatewayClients
    {
        public GatewayClient? Find(IPAddress source) => IPAddress.IsLoopback(source) ? client : null;
    }
}

/// <summary>Keeps every refusal the gateway reports.</summary>
internal sealed class RecordingAudit : IGatewayAudit
{
    private readonly ConcurrentQueue<GatewayRefusal> _refusals = new();

    public IReadOnlyList<GatewayRefusal> Refusals => [.. _refusals];

    public void Refused(GatewayRefusal refusal) => _refusals.Enqueue(refusal);
}
