using System.Net;
using System.Net.Sockets;
using Cleanroom.Daemon.Events;
using Cleanroom.Daemon.Files;
using Cleanroom.Daemon.Hosting;
using Cleanroom.Daemon.Sandboxes;
using Cleanroom.Gateway.Cache;
using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cleanroom.Daemon.Tests;

/// <summary>
/// The daemon's control API wired as the daemon wires it (<see cref="ControlApi"/>: the same listener, protocols and
/// interceptors) on a temporary unix socket, serving the sandbox service over a <see cref="DaemonHarness"/>'s real
/// manager and event store with fake VMs. <see cref="Http1"/> and <see cref="Http2"/> are plain HttpClients on the socket.
/// The execution service runs too, with a gateway that is off (the fake sandboxes have no network).
/// </summary>
internal sealed class ControlApiHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private readonly string _root;

    private readonly GatewayParts _gateway;

    private ControlApiHost(WebApplication app, DaemonHarness harness, SandboxEventStore events, CallWatcher calls, string root, GatewayParts gateway)
    {
        _app = app;
        _gateway = gateway;
        _root = root;
        Calls = calls;
        var socket = harness.Options.SocketPath;
        Harness = harness;
        Events = events;
        SocketPath = socket;
        Http1 = Client(socket, HttpVersion.Version11);
        Http2 = Client(socket, HttpVersion.Version20);
    }

    public DaemonHarness Harness { get; }

    public SandboxEventStore Events { get; }

    public string SocketPath { get; }

    /// <summary>Every call's end as the service pipeline saw it (an interceptor registered like the daemon's own).</summary>
    public CallWatcher Calls { get; }

    /// <summary>HTTP/1.1 over the socket (as curl and gRPC-Web clients speak).</summary>
    public HttpClient Http1 { get; }

    /// <summary>HTTP/2 with prior knowledge over the socket (as gRPC and connect-node clients speak).</summary>
    public HttpClient Http2 { get; }

    /// <summary>The network listeners' bound addresses (port 0 resolved), in <c>--listen</c> order of scheme: http ones, then https.</summary>
    public IReadOnlyList<Uri> NetworkAddresses =>
        _app.Urls.Where(u => !u.Contains("unix:", StringComparison.Ordinal)).Select(u => new Uri(u)).OrderBy(u => u.Scheme, StringComparer.Ordinal).ToList();

    /// <summary>The https listeners' certificate, when there are any.</summary>
    public ServerCertificate.Loaded? Certificate { get; private init; }

    /// <summary>
    /// The API on the harness's socket and, when <paramref name="tune"/> adds them, on network listeners (TLS set up
    /// as the daemon does: the given or generated certificate, client CAs).
    /// </summary>
    public static async Task<ControlApiHost> StartAsync(Func<DaemonOptions, DaemonOptions>? tune = null)
    {
        var root = Directory.CreateTempSubdirectory("cr-control-api-").FullName;
        var events = new SandboxEventStore(Path.Combine(root, "events.db"));
        var harness = new DaemonHarness(tune, events: events);
        var gateway = new GatewayParts(harness.Options, events, root);
        WebApplication? app = null;
        try
        {
            ServerCertificate.Loaded? certificate = null;
            var tls = harness.Options.Listeners.Any(l => l.Tls) ? ServerTls.Load(harness.Options, out certificate) : null;
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(k => ControlApi.Listen(k, harness.Options.SocketPath, harness.Options.Listeners, tls));
            builder.Services.AddControlApi();
            var watcher = new CallWatcher();
            builder.Services.AddSingleton(watcher);
            builder.Services.Configure<GrpcServiceOptions>(o => o.Interceptors.Add<CallWatcher>());
            builder.Services.AddSingleton(harness.Options);
            builder.Services.AddSingleton(harness.Manager);
            builder.Services.AddSingleton(events);
            builder.Services.AddSingleton<SandboxFiles>();
            builder.Services.AddSingleton<WorkspaceChanges>();
            builder.Services.AddSingleton(harness.Store);
            builder.Services.AddSingleton(gateway.Gateway);
            app = builder.Build();
            app.MapControlApi();
            await app.StartAsync();
            return new ControlApiHost(app, harness, events, watcher, root, gateway) { Certificate = certificate };
        }
        catch
        {
            // A start that fails (as the refused-listener tests expect) must not leave the harness or its directory.
            if (app is not null)
            {
                await app.DisposeAsync();
            }

            await harness.DisposeAsync();
            await gateway.DisposeAsync();
            events.Dispose();
            Directory.Delete(root, recursive: true);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        Http1.Dispose();
        Http2.Dispose();
        try
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
            await Harness.DisposeAsync();
            await _gateway.DisposeAsync();
        }
        finally
        {
            // Even when a part throws (a shutdown past its bound), the temp directory goes.
            Events.Dispose();
            Directory.Delete(_root, recursive: true);
        }
    }

    private static HttpClient Client(string socket, Version version) =>
        new(new PinnedVersion(version, new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await s.ConnectAsync(new UnixDomainSocketEndPoint(socket), ct);
                    return new NetworkStream(s, ownsSocket: true);
                }
                catch
                {
                    s.Dispose();
                    throw;
                }
            },
        }))
        {
            BaseAddress = new Uri("http://cleanroom"),
            DefaultRequestVersion = version,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Timeout = TimeSpan.FromSeconds(30),
        };

    /// <summary>The execution service's gateway, turned off, over a network that is off.</summary>
    private sealed class GatewayParts : IAsyncDisposable
    {
        private readonly DaemonNetwork _network;
        private readonly ContentCache _cache;

        public GatewayParts(DaemonOptions options, SandboxEventStore events, string root)
        {
            var off = options with { Network = DaemonNetworkMode.Off, Gateway = DaemonNetworkMode.Off };
            _cache = new ContentCache(new ContentCacheOptions { RootDirectory = Path.Combine(root, "cache") });
            _network = new DaemonNetwork(off, events, NullLoggerFactory.Instance);
            Gateway = new DaemonGateway(off, _network, _cache, NullLoggerFactory.Instance);
        }

        public DaemonGateway Gateway { get; }

        public async ValueTask DisposeAsync()
        {
            await Gateway.DisposeAsync();
            await _network.DisposeAsync();
            _cache.Dispose();
        }
    }

    /// <summary>Sends every request, also hand-built ones, in the client's HTTP version and no other.</summary>
    private sealed class PinnedVersion(Version version, HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Version = version;
            request.VersionPolicy = HttpVersionPolicy.RequestVersionExact;
            return base.SendAsync(request, cancellationToken);
        }
    }
}
