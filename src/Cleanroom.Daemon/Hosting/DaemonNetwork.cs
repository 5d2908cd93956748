using System.Net;
using Cleanroom.Daemon.Events;
using Cleanroom.HostProcesses;
using Cleanroom.Network;
using Cleanroom.Network.Dns;
using Cleanroom.Network.Nflog;
using Cleanroom.Vm.Doctor;
using Microsoft.Extensions.Logging;

namespace Cleanroom.Daemon.Hosting;

/// <summary>
/// The daemon's side of sandbox networking: decides at start whether sandboxes get a network (<c>--network</c>),
/// starts what runs for all of them (the firewall table, the DNS filter, the denial reader) and stops it again.
/// When off, <see cref="Networks"/> is null and sandboxes boot without a network card.
/// </summary>
public sealed class DaemonNetwork : IAsyncDisposable
{
    private int _disposed;
    private readonly DaemonOptions _options;
    private readonly ILoggerFactory _loggers;
    private readonly EgressAuditLog _audit;
    private NflogReader? _denials;
    private DnsFilter? _dns;
    private NetworkOwnership? _ownership;
    private Cleanroom.Network.Guard.ConnectionGuard? _guard;
    private Cleanroom.Network.Guard.Queue.QueueGuard? _queueGuard;
    private string? _denialsProblem;
    private string _ipv6 = "";

    public DaemonNetwork(DaemonOptions options, SandboxEventStore events, ILoggerFactory loggers)
    {
        _options = options;
        _loggers = loggers;
        _audit = new EgressAuditLog(options.StateDir, events);
        DisabledReason = options.Network == DaemonNetworkMode.Off ? "turned off (--network off)" : null;
    }

    /// <summary>Null when sandboxes get no network.</summary>
    public SandboxNetworks? Networks { get; private set; }

    /// <summary>Why there is no network, for the log and doctor; null when there is one.</summary>
    public string? DisabledReason { get; private set; }

    /// <summary>Why the queue guard (auto's first choice) could not start, when the proxy guard runs instead.</summary>
    public string? GuardFallbackReason { get; private set; }

    /// <summary>Where denials go (events and the audit log).</summary>
    public IEgressAudit Audit => _audit;

    /// <summary>The resolvers allowed queries go to: <c>--dns-upstream</c>, else the host's resolv.conf.</summary>
    public IReadOnlyList<IPEndPoint> Upstreams { get; private set; } = [];

    /// <summary>Sets everything up; with <c>--network on</c> a failure stops the daemon, with auto it turns the network off.</summary>
    public async Task StartAsync(CancellationToken ct)
    {
        if (_options.Network == DaemonNetworkMode.Off)
        {
            return;
        }

        var missing = MissingPrerequisite();
        if (missing is null)
        {
            var mode = _options.NetworkSettings.GuardMode;
            while (true)
            {
                try
                {
                    // Before anything touches the table: it may be another daemon's.
                    _ownership = NetworkOwnership.Claim(_options.NetworkSettings.TableName);
                    Upstreams = _options.NetworkSettings.DnsUpstreams.Count > 0 ? _options.NetworkSettings.DnsUpstreams : ResolvConf.Nameservers("/etc/resolv.conf");
                    // Without a gateway (--gateway off) the table has no redirect to it and DNS does not answer its name.
                    var settings = _options.NetworkSettings with
                    {
                        Pool6 = Ipv6Pool(),
                        GuardMode = mode,
                        GatewayPort = _options.Gateway == DaemonNetworkMode.Off ? null : _options.NetworkSettings.GatewayPort,
                    };
                    var networks = new SandboxNetworks(settings, _loggers.CreateLogger<SandboxNetworks>());
                    Networks = networks; // first, so a failed start is undone below
                    await networks.StartAsync(ct);
                    StartDenialReader(networks);

                    // One filter for every sandbox; the firewall redirects each guest's port 53 on its gateway here, and
                    // drops anything else that tries to reach this port.
                    _dns = new DnsFilter(
                        new DnsFilterOptions
                        {
                            ListenEndpoints = [new IPEndPoint(IPAddress.Any, _options.NetworkSettings.DnsPort)],
                            Upstreams = Upstreams,
                            GatewayName = settings.GatewayPort is null ? null : Cleanroom.Gateway.Server.GatewayOptions.GuestHostName,
                        },
                        networks,
                        networks,
                        _audit,
                        _loggers.CreateLogger<DnsFilter>());
                    _dns.Start();

                    IReadOnlyList<IPNetwork> blocked = [.. Cleanroom.Network.Firewall.FirewallRules.AlwaysBlockedNetworks, settings.Pool, .. settings.Pool6 is { } pool6 ? [pool6] : Array.Empty<IPNetwork>()];
                    if (settings.GuardMode == GuardMode.Queue)
                    {
                        // TCP to names learned from DNS is forwarded, its packets queued until the first message is decided
                        // (the firewall's NFQUEUE rule was installed with the table).
                        _queueGuard = Cleanroom.Network.Guard.Queue.QueueGuard.Start(
                            new Cleanroom.Network.Guard.Queue.QueueGuardOptions { QueueNumber = settings.QueueNumber, Blocked = blocked },
                            networks,
                            networks,
                            _audit,
                            _loggers.CreateLogger<Cleanroom.Network.Guard.Queue.QueueGuard>());
                        return;
                    }

                    // TCP to names learned from DNS is redirected here: the TLS server name or HTTP Host the guest sends
                    // must be one its policy allows on that port (co-hosted names on one address).
                    _guard = new Cleanroom.Network.Guard.ConnectionGuard(
                        new Cleanroom.Network.Guard.ConnectionGuardOptions
                        {
                            Endpoint = new IPEndPoint(IPAddress.Any, settings.GuardPort),
                            Endpoint6 = settings.Pool6 is null ? null : new IPEndPoint(IPAddress.IPv6Any, settings.GuardPort),
                            Blocked = blocked,
                        },
                        networks,
                        networks,
                        _audit,
                        _loggers.CreateLogger<Cleanroom.Network.Guard.ConnectionGuard>());
                    _guard.Start();
                    return;
                }
                catch (Exception ex) when (ex is HostCommandException or IOException or UnauthorizedAccessException or System.Net.Sockets.SocketException or ArgumentException or NflogException)
                {
                    // Half a network is worse than none: undo what came up, then decide as if it never had.
                    await DisposeAsync();
                    _disposed = 0;
                    Networks = null;
                    _dns = null;
                    _guard = null;
                    _queueGuard = null;
                    _denials = null;
                    _ownership = null;
                    if (mode == GuardMode.Queue && _options.GuardModeFallback)
                    {
                        // Auto: a kernel without NFQUEUE (or xt_NFQUEUE, or ctnetlink) still gets every check, by the proxy.
                        GuardFallbackReason = ex.Message;
                        _loggers.CreateLogger<DaemonNetwork>().LogWarning("The queue guard cannot start ({Reason}); TCP to learned names goes through the proxy guard", ex.Message);
                        mode = GuardMode.Proxy;
                        continue;
                    }

                    missing = "setting it up failed: " + ex.Message;
                }

                break;
            }
        }

        if (_options.Network == DaemonNetworkMode.On)
        {
            throw new DaemonException(Grpc.Core.StatusCode.FailedPrecondition, ReasonCode.BackendUnavailable, "--network on, but sandbox networking is not available: " + missing);
        }

        DisabledReason = missing;
    }

    /// <summary>Doctor's view: whether sandboxes get a network, and the pieces it stands on.</summary>
    public IEnumerable<DoctorCheck> Checks()
    {
        if (Networks is null)
        {
            yield return new DoctorCheck("network", _options.Network == DaemonNetworkMode.Off ? CheckStatus.Pass : CheckStatus.Warn,
                $"sandboxes have no network card ({DisabledReason}); egress is denied because there is no way out, and allow rules are refused");
            yield break;
        }

        var settings = Networks.Options;
        yield return new DoctorCheck("network", CheckStatus.Pass,
            $"per-sandbox TAP links from {settings.Pool}, nftables table inet {settings.TableName}, default deny");
        var forwarding = TryRead("/proc/sys/net/ipv4/ip_forward");
        yield return new DoctorCheck("network.forwarding", forwarding == "1" ? CheckStatus.Pass : CheckStatus.Fail,
            forwarding == "1" ? "IPv4 forwarding is on" : "IPv4 forwarding is off: allowed egress cannot leave the host");
        yield return settings.Pool6 is { } pool6
            ? new DoctorCheck("network.ipv6", TryRead("/proc/sys/net/ipv6/conf/all/forwarding") == "1" ? CheckStatus.Pass : CheckStatus.Fail,
                $"guests get IPv6 from {pool6} with the same allowlist as IPv4 (AAAA answers open IPv6 destinations); {_ipv6}")
            : new DoctorCheck("network.ipv6", CheckStatus.Pass, $"guests get no IPv6 ({_ipv6}): AAAA questions get no addresses and the firewall drops their IPv6");
        yield return new DoctorCheck("network.denial_audit", _denials is not null ? CheckStatus.Pass : CheckStatus.Warn,
            _denials is not null ? $"blocked connections are read from NFLOG group {_denials.Group} into events and {_audit.FilePath}"
                : "blocked connections are not audited: " + _denialsProblem);
        yield return new DoctorCheck("network.dns_filter", _dns is not null ? CheckStatus.Pass : CheckStatus.Fail,
            _dns is not null ? $"guests resolve through the filter on port {_options.NetworkSettings.DnsPort} (UDP and TCP); names the policy does not allow are refused and never sent upstream"
                : "the DNS filter is not running");
        yield return _queueGuard is not null
            ? new DoctorCheck("network.connection_guard", CheckStatus.Pass,
                $"TCP to names learned from DNS is held in NFQUEUE {settings.QueueNumber} until its first message is checked (--guard-mode {(_options.GuardModeFallback ? "auto" : "queue")}): the TLS server name or HTTP Host must be allowed too")
            : new DoctorCheck("network.connection_guard", _guard is not null ? CheckStatus.Pass : CheckStatus.Fail,
                _guard is not null ? $"TCP to names learned from DNS passes the guard on port {_options.NetworkSettings.GuardPort}: the TLS server name or HTTP Host must be allowed too"
                    + (GuardFallbackReason is null ? "" : $" (the queue guard could not start: {GuardFallbackReason})")
                    : "the connection guard is not running");
        yield return new DoctorCheck("network.dns_upstreams", Upstreams.Count > 0 ? CheckStatus.Pass : CheckStatus.Fail,
            Upstreams.Count > 0 ? string.Join(", ", Upstreams) : "no upstream resolver: set --dns-upstream or /etc/resolv.conf");
    }

    public async ValueTask DisposeAsync()
    {
        // The daemon disposes this at shutdown and its DI container does again; the second call is a no-op. (A start
        // that fails halfway disposes too and then tries again, so the flag is reset there.)
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (_guard is not null)
        {
            await _guard.DisposeAsync();
        }

        if (_queueGuard is not null)
        {
            await _queueGuard.DisposeAsync();
        }

        if (_dns is not null)
        {
            await _dns.DisposeAsync();
        }

        if (_denials is not null)
        {
            await _denials.DisposeAsync();
        }

        if (Networks is not null)
        {
            await Networks.DisposeAsync();
        }

        // Last: the next daemon may touch the table only once this one is done with it.
        _ownership?.Dispose();
        _audit.Dispose();
    }

    /// <summary>
    /// Reads the packets the firewall refuses (its rate-limited <c>log group</c> rules) and records each as a denial of
    /// the sandbox whose TAP it came in on. Without it the firewall still refuses; only the audit is missing.
    /// </summary>
    private void StartDenialReader(SandboxNetworks networks)
    {
        try
        {
            _denials = NflogReader.Start(
                new NflogReaderOptions { Group = (ushort)_options.NetworkSettings.LogGroup },
                packet => networks.SandboxOfInterface(packet.InputInterfaceIndex),
                _audit,
                _loggers.CreateLogger<NflogReader>());
        }
        catch (NflogException ex)
        {
            _denialsProblem = ex.Message;
            _loggers.CreateLogger<DaemonNetwork>().LogWarning("blocked connections will not be audited: {Reason}", ex.Message);
        }
    }

    /// <summary>The IPv6 block guests get, or null for none (<c>--ipv6</c>); says why in <see cref="_ipv6"/>.</summary>
    private IPNetwork? Ipv6Pool()
    {
        var pool = _options.NetworkSettings.Pool6 ?? Cleanroom.Network.NetworkOptions.DefaultPool6;
        switch (_options.Ipv6)
        {
            case DaemonNetworkMode.Off:
                _ipv6 = "turned off (--ipv6 off)";
                return null;
            case DaemonNetworkMode.Auto when !HostIpv6.HasDefaultRoute():
                _ipv6 = "the host has no IPv6 default route (--ipv6 on forces it)";
                return null;
            default:
                _ipv6 = _options.Ipv6 == DaemonNetworkMode.On ? "--ipv6 on" : "the host has an IPv6 default route";
                return pool;
        }
    }

    private static string? MissingPrerequisite()
    {
        if (!Posix.IsRoot)
        {
            return "the daemon does not run as root (TAP devices and nftables need it)";
        }

        if (!File.Exists("/dev/net/tun"))
        {
            return "/dev/net/tun does not exist";
        }

        return ExecutableSearch.FindOnPath("nft", Environment.GetEnvironmentVariable("PATH") + ":/usr/sbin:/sbin") is null ? "nft is not installed (apt-get install nftables)" : null;
    }

    private static string TryRead(string path)
    {
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (IOException)
        {
            return "";
        }
    }
}
