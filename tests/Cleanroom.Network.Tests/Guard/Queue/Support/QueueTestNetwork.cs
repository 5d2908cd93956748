using System.Net;
using System.Net.Sockets;
using Cleanroom.Network.Dns;
using Cleanroom.Network.Firewall;
using Cleanroom.Network.Guard.Queue;
using Cleanroom.Network.Links;
using Cleanroom.Network.Tests.Guard.Support;
using Cleanroom.Network.Tests.Nflog.Support;
using Cleanroom.Network.Tests.Support;
using Namespaces = Cleanroom.TestSupport.NetworkNamespace;
using SocketsIn = Cleanroom.Network.Nflog.NetworkNamespace;

namespace Cleanroom.Network.Tests.Guard.Queue.Support;

/// <summary>
/// The production path in miniature, in queue mode: a "host" namespace holding the real rendered table (base, one
/// sandbox, its learned destinations) and the NFQUEUE rule; a "guest" namespace wired in by a veth pair whose host
/// end carries the TAP's name and whose guest end the sandbox's MAC; a "net" namespace with the servers on
/// 10.250.0.3 and fd99::3. The queue guard runs in this process, its sockets in the host namespace. Everything is
/// deleted on dispose.
/// </summary>
internal sealed class QueueTestNetwork : IAsyncDisposable
{
    public const string SandboxId = "sb-queue";
    public static readonly IPAddress Server = IPAddress.Parse("10.250.0.3");
    public static readonly IPAddress Server6 = IPAddress.Parse("fd99::3");

    private static readonly NetworkOptions Options = new() { Pool6 = NetworkOptions.DefaultPool6, GuardMode = GuardMode.Queue, QueueNumber = 7352 };

    private readonly List<IDisposable> _servers = [];
    private readonly Namespaces _host = Namespaces.Create("qhost");
    private readonly Namespaces _net = Namespaces.Create("qnet");
    private readonly Namespaces _guest = Namespaces.Create("qguest");

    private QueueTestNetwork(string allow)
    {
        Policy = TestNetworkPolicies.Compile(allow);
        Link = new LinkAddressPool(Options.Pool, Options.TapPrefix, Options.Pool6).LinkAt(0, SandboxId);
        Directory = new OneClientDirectory(new DnsClient(SandboxId, Policy, AllowAll: false), Link.GuestAddress, Link.GuestAddress6!);
    }

    public Cleanroom.Policy.NetworkPolicy Policy { get; }

    public SandboxLink Link { get; }

    public OneClientDirectory Directory { get; }

    public LearnedDestinations Learned { get; } = new();

    public RecordingAudit Audit { get; } = new();

    public RecordingLogger Logger { get; } = new();

    public QueueGuard? Guard { get; private set; }

    public string HostPath => $"/run/netns/{_host.Name}";

    /// <summary>Builds the namespaces, the table and (when <paramref name="installQueueRule"/>) the NFQUEUE rule; no guard yet.</summary>
    public static QueueTestNetwork Create(string allow, bool installQueueRule = true)
    {
        var network = new QueueTestNetwork(allow);
        try
        {
            network.Wire(installQueueRule);
            return network;
        }
        catch
        {
            network.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }
    }

    /// <summary>Starts the queue guard in the host namespace with <paramref name="options"/> (the queue and namespace are filled in).</summary>
    public QueueGuard StartGuard(QueueGuardOptions? options = null)
    {
        options = (options ?? new QueueGuardOptions()) with { QueueNumber = Options.QueueNumber, NetworkNamespacePath = HostPath };
        Guard = QueueGuard.Start(options, Directory, Learned, Audit, Logger);
        return Guard;
    }

    /// <summary>A TCP server in the net namespace on <paramref name="endpoint"/>.</summary>
    public RecordingServer Serve(IPEndPoint endpoint, int replyBytes = 0)
    {
        var server = new RecordingServer(
            SocketsIn.Run($"/run/netns/{_net.Name}", () => new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp)), endpoint, replyBytes);
        _servers.Add(server);
        return server;
    }

    /// <summary>A guest socket (its options can be set before it connects).</summary>
    public Socket GuestSocket(AddressFamily family) =>
        SocketsIn.Run($"/run/netns/{_guest.Name}", () => new Socket(family, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true });

    /// <summary>Connects a guest socket to <paramref name="destination"/> within <paramref name="timeout"/>; null when it could not.</summary>
    public static async Task<Socket?> TryConnectAsync(Socket socket, IPEndPoint destination, TimeSpan timeout)
    {
        try
        {
            using var deadline = new CancellationTokenSource(timeout);
            await socket.ConnectAsync(destination, deadline.Token);
            return socket;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException)
        {
            socket.Dispose();
            return null;
        }
    }

    public async Task<Socket> ConnectAsync(IPEndPoint destination, Action<Socket>? configure = null)
    {
        var socket = GuestSocket(destination.AddressFamily);
        configure?.Invoke(socket);
        return await TryConnectAsync(socket, destination, GuestIo.Timeout) ?? throw new InvalidOperationException($"the guest could not connect to {destination}");
    }

    /// <summary>The host namespace's ruleset as nft lists it.</summary>
    public string Ruleset() => _host.Run("nft", "list", "ruleset");

    public async ValueTask DisposeAsync()
    {
        if (Guard is not null)
        {
            await Guard.DisposeAsync();
        }

        foreach (var server in _servers)
        {
            server.Dispose();
        }

        _guest.Dispose();
        _net.Dispose();
        _host.Dispose();
    }

    private void Wire(bool installQueueRule)
    {
        _host.Run("sysctl", "-qw", "net.ipv4.ip_forward=1");
        _host.Run("sysctl", "-qw", "net.ipv6.conf.all.forwarding=1");
        Namespaces.Host("ip", "link", "add", "cr-up", "netns", _host.Name, "type", "veth", "peer", "name", "cr-down", "netns", _net.Name);
        _host.Run("ip", "addr", "add", "10.250.0.1/24", "dev", "cr-up");
        _host.Run("ip", "-6", "addr", "add", "fd99::1/64", "dev", "cr-up", "nodad");
        _host.Run("ip", "link", "set", "cr-up", "up");
        _net.Run("ip", "addr", "add", "10.250.0.3/24", "dev", "cr-down");
        _net.Run("ip", "-6", "addr", "add", "fd99::3/64", "dev", "cr-down", "nodad");
        _net.Run("ip", "link", "set", "cr-down", "up");
        _net.Run("ip", "route", "add", "default", "via", "10.250.0.1");
        _net.Run("ip", "-6", "route", "add", "default", "via", "fd99::1");

        Namespaces.Host("ip", "link", "add", Link.TapName, "netns", _host.Name, "type", "veth", "peer", "name", "eth0", "netns", _guest.Name);
        _host.Run("ip", "addr", "add", $"{Link.HostAddress}/{Link.PrefixLength}", "dev", Link.TapName);
        _host.Run("ip", "-6", "addr", "add", $"{Link.HostAddress6}/{LinkAddressPool.LinkPrefixLength6}", "dev", Link.TapName, "nodad");
        _host.Run("ip", "link", "set", Link.TapName, "up");
        _guest.Run("ip", "link", "set", "eth0", "address", Link.Mac);
        _guest.Run("ip", "addr", "add", $"{Link.GuestAddress}/{Link.PrefixLength}", "dev", "eth0");
        _guest.Run("ip", "-6", "addr", "add", $"{Link.GuestAddress6}/{LinkAddressPool.LinkPrefixLength6}", "dev", "eth0", "nodad");
        _guest.Run("ip", "link", "set", "eth0", "up");
        _guest.Run("ip", "route", "add", "default", "via", Link.HostAddress.ToString());
        _guest.Run("ip", "-6", "route", "add", "default", "via", Link.HostAddress6!.ToString());

        var rules = new FirewallRules(Options);
        _host.RunWithInput(rules.Base(), "nft", "-f", "-");
        if (installQueueRule)
        {
            QueueRuleInstaller.Install(Options.TableName, Options.QueueNumber, HostPath);
        }

        _host.RunWithInput(rules.AddSandbox(new SandboxFirewall(Link, Policy, AllowAll: false)), "nft", "-f", "-");
        LearnedDestination[] learned = [new(Server, 443), new(Server, 80), new(Server6, 443)];
        _host.RunWithInput(rules.AddLearned(Link.Index, learned), "nft", "-f", "-");
        foreach (var destination in learned)
        {
            Learned.Add(SandboxId, destination.Address, destination.Port);
        }
    }
}
