using System.Net;
using System.Text.Json;
using Cleanroom.Daemon.Admission;
using Cleanroom.Gateway.Cache;
using Cleanroom.Gateway.Guest;
using Cleanroom.Gateway.Server;
using Cleanroom.Network.Dns;
using Cleanroom.Policy;
using Cleanroom.Vm.Doctor;
using Microsoft.Extensions.Logging;

namespace Cleanroom.Daemon.Hosting;

/// <summary>
/// The daemon's side of the host gateway (<c>--gateway</c>): runs one <see cref="GatewayServer"/> for every sandbox
/// while sandbox networking runs, tells it which sandbox a request comes from (by source address, like the DNS
/// filter) and where its refusals go (the egress audit), and gives executions the variables that point guests at it.
/// When it does not run, sandboxes get none of those variables, and the firewall does not redirect to it.
/// </summary>
public sealed class DaemonGateway : IAsyncDisposable, Services.IGatewayRouteStatistics
{
    private readonly DaemonOptions _options;
    private readonly DaemonNetwork _network;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly IGitMirrors? _gitMirrors;
    private GatewayServer? _server;
    private int _disposed;

    /// <param name="options">The daemon's options (gateway mode, upstreams, credentials).</param>
    /// <param name="network">Sandbox networking, which the gateway runs with.</param>
    /// <param name="cache">The content cache it serves from.</param>
    /// <param name="loggers">Where it logs.</param>
    /// <param name="gitMirrors">The repository mirrors its git route falls back on, or null for none.</param>
    public DaemonGateway(DaemonOptions options, DaemonNetwork network, ContentCache cache, ILoggerFactory loggers, IGitMirrors? gitMirrors = null)
    {
        _gitMirrors = gitMirrors;
        _options = options;
        _network = network;
        Cache = cache;
        _loggers = loggers;
        _logger = loggers.CreateLogger<DaemonGateway>();
        DisabledReason = options.Gateway == DaemonNetworkMode.Off ? "turned off (--gateway off)" : "not started";
    }

    /// <summary>The content cache the gateway serves from (owned by the daemon's services).</summary>
    public ContentCache Cache { get; }

    /// <summary>True while the gateway serves guests.</summary>
    public bool IsRunning => Volatile.Read(ref _server) is not null;

    /// <summary>Why the gateway does not run, for the log and doctor; null while it runs.</summary>
    public string? DisabledReason { get; private set; }

    /// <summary>Where it listens (empty when it does not run).</summary>
    public IReadOnlyList<IPEndPoint> Endpoints => Volatile.Read(ref _server)?.Endpoints ?? [];

    /// <summary>How many hosts the credentials file gives credentials for (0 without one).</summary>
    public int CredentialHosts { get; private set; }

    /// <summary>What each route has served since the gateway started (empty when it does not run).</summary>
    public IReadOnlyList<GatewayRouteCounters> Statistics() => Volatile.Read(ref _server)?.Statistics() ?? [];

    /// <summary>
    /// Starts the gateway if sandboxes have a network. Under <c>--gateway on</c> a gateway that cannot run stops the
    /// daemon; under auto it is logged, and the firewall's redirect to its port is taken out, so guests never reach
    /// whatever else may hold that port.
    /// </summary>
    public async Task StartAsync(CancellationToken ct)
    {
        if (_options.Gateway == DaemonNetworkMode.Off)
        {
            return;
        }

        var networks = _network.Networks;
        if (networks is null || networks.Options.GatewayPort is not { } port)
        {
            Refuse("sandboxes have no network (" + (_network.DisabledReason ?? "the gateway port is not set") + ")");
            return;
        }

        // With IPv6, one dual-stack listener on [::] takes both families (IPv4 arrives as v4-mapped addresses, which the
        // gateway and the client lookup normalise); a second one on 0.0.0.0 would collide with it.
        var listen = networks.Options.Pool6 is null ? new IPEndPoint(IPAddress.Any, port) : new IPEndPoint(IPAddress.IPv6Any, port);
        await StartAsync(networks, listen, networks.DisableGatewayAsync, ct);
    }

    /// <summary>
    /// Starts the server on <paramref name="listen"/> for the guests <paramref name="directory"/> knows; when it cannot
    /// start, <paramref name="withdrawRedirect"/> takes the firewall's redirect to its port out before the failure is
    /// decided on (a seam for tests, which have no firewall).
    /// </summary>
    internal async Task StartAsync(IDnsClientDirectory directory, IPEndPoint listen, Func<CancellationToken, Task> withdrawRedirect, CancellationToken ct)
    {
        var settings = new GatewayOptions
        {
            ListenEndpoints = [listen],
            Upstreams = _options.GatewayUpstreams,
            CredentialsFile = _options.GatewayCredentialsFile,
            RegistryAuthFile = _options.GatewayRegistryAuthFile,
            GitMirrors = _gitMirrors,
        };
        try
        {
            var server = await GatewayServer.StartAsync(settings, Cache, new GatewayClients(directory), new GatewayAuditSink(_network.Audit), _loggers, ct);
            CredentialHosts = _options.GatewayCredentialsFile is { } file ? CountCredentialHosts(file) : 0;
            Volatile.Write(ref _server, server);
            DisabledReason = null;
            _logger.LogInformation("host gateway listening on {Endpoints} (guests: {Url})", string.Join(", ", server.Endpoints), GatewayEnvironment.BaseUrl);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Whatever holds the port now (the likeliest reason the bind failed) must not become reachable from guests;
            // if even that fails, the daemon stops rather than run with the redirect in place.
            await withdrawRedirect(CancellationToken.None);
            Refuse("it could not start: " + ex.Message);
        }
    }

    /// <summary>
    /// The variables an execution in a sandbox with <paramref name="policy"/> gets from the gateway: none while it does
    /// not run. They go under the image's and the request's own variables.
    /// </summary>
    public IReadOnlyList<string> Environment(NetworkPolicy policy, bool allowAll) =>
        IsRunning ? GatewayEnvironment.For(policy, allowAll) : [];

    /// <summary>Doctor's view: whether the gateway runs, where, with how many credentials, and the cache it fills.</summary>
    public IEnumerable<DoctorCheck> Checks()
    {
        var cache = $"cache {Cache.Options.RootDirectory}: {HumanSize.Format(Cache.UsedBytes)} of {HumanSize.Format(Cache.Options.MaxTotalBytes)} in {Cache.BlobCount} blobs";
        if (!IsRunning)
        {
            yield return new DoctorCheck("network.gateway", _options.Gateway == DaemonNetworkMode.Off ? CheckStatus.Pass : CheckStatus.Warn,
                $"the host gateway is not running ({DisabledReason}): sandboxes get no {GatewayEnvironment.UrlVariable} and git goes upstream directly; {cache}");
            yield break;
        }

        var credentials = _options.GatewayCredentialsFile is { } file
            ? $"credentials for {CredentialHosts} host{(CredentialHosts == 1 ? "" : "s")} from {file}"
            : "no credentials file (--gateway-credentials)";
        credentials += _options.GatewayRegistryAuthFile is { } auth ? $", registry credentials from {auth}" : "";
        var upstreams = _options.GatewayUpstreams.Count == 0 ? "" : $", {_options.GatewayUpstreams.Count} upstream override(s)";
        yield return new DoctorCheck("network.gateway", CheckStatus.Pass,
            $"listening on {string.Join(", ", Endpoints)}; guests reach it as {GatewayEnvironment.BaseUrl}; {credentials}{upstreams}; {cache}");
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        var server = Interlocked.Exchange(ref _server, null);
        if (server is not null)
        {
            await server.DisposeAsync();
        }
    }

    private void Refuse(string reason)
    {
        if (_options.Gateway == DaemonNetworkMode.On)
        {
            throw new DaemonException(Grpc.Core.StatusCode.FailedPrecondition, ReasonCode.BackendUnavailable, "--gateway on, but the host gateway cannot run: " + reason);
        }

        DisabledReason = reason;
        _logger.LogWarning("the host gateway does not run: {Reason}; sandboxes get no gateway variables", reason);
    }

    /// <summary>
    /// The number of hosts in the credentials file the gateway just loaded (so it is valid JSON of the documented
    /// shape, <c>{"hosts": {...}}</c>); 0 when it cannot be read again.
    /// </summary>
    private static int CountCredentialHosts(string file)
    {
        try
        {
            if (new FileInfo(file).Length > 1 << 20)
            {
                return 0; // the gateway refuses larger files; this one changed since
            }

            using var stream = File.OpenRead(file);
            using var document = JsonDocument.Parse(stream);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("hosts", out var hosts) && hosts.ValueKind == JsonValueKind.Object
                ? hosts.EnumerateObject().Count()
                : 0;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException)
        {
            return 0;
        }
    }
}
