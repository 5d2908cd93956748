using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using Cleanroom.Network.Dns;
using Cleanroom.Network.Guard;
using Cleanroom.Network.Tests.Guard.Support;
using Cleanroom.Network.Tests.Nflog.Support;
using Cleanroom.Network.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Namespaces = Cleanroom.TestSupport.NetworkNamespace;
using SocketsIn = Cleanroom.Network.Nflog.NetworkNamespace;

namespace Cleanroom.Network.Tests.Guard;

/// <summary>
/// The guard's IPv6 listener behind a real nftables <c>redirect to :PORT</c> in an inet nat chain, so the original
/// destination comes from the kernel (IP6T_SO_ORIGINAL_DST). The namespaces are dual-stack: a guest (fd77:1::2,
/// 10.77.1.2), the host running the guard with both listeners and the redirects on the guest's link, and an upstream
/// (fd88::5, 10.88.0.5, and fd00:ec2::254, an always-blocked address the host could reach) serving on 443 and 80.
/// Nothing leaves them.
/// </summary>
[Collection(NflogNamespaceTests.Name)]
public class ConnectionGuardRedirect6Tests
{
    private static readonly IPAddress GuestAddress = IPAddress.Parse("fd77:1::2");
    private static readonly IPAddress GuestAddress4 = IPAddress.Parse("10.77.1.2");
    private static readonly IPAddress UpstreamAddress = IPAddress.Parse("fd88::5");
    private static readonly IPAddress UpstreamAddress4 = IPAddress.Parse("10.88.0.5");
    private static readonly IPAddress Metadata = IPAddress.Parse("fd00:ec2::254");

    [RootNetnsFact]
    public async Task Through_a_real_IPv6_redirect_an_allowed_server_name_passes_and_a_denied_one_on_the_same_address_is_cut()
    {
        await using var world = await DualStack.CreateAsync(tls: true);

        // Allowed: a real TLS session to [fd88::5]:443 goes through the guard's IPv6 listener and both directions flow.
        using (var guest = await world.DialAsync(new IPEndPoint(UpstreamAddress, 443)))
        {
            await using var tls = new SslStream(new NetworkStream(guest), false, LoopbackUpstream.IsTestCertificate);
            await tls.AuthenticateAsClientAsync("allowed.test").WaitAsync(GuestIo.Timeout);
            await tls.WriteAsync("through the v6 redirect\n"u8.ToArray());
            var reply = new byte[64];
            var n = await tls.ReadAsync(reply).AsTask().WaitAsync(GuestIo.Timeout);
            Assert.Equal("THROUGH THE V6 REDIRECT\n", Encoding.ASCII.GetString(reply, 0, n));
        }

        Assert.Equal("through the v6 redirect\n", Encoding.ASCII.GetString(await world.Server.NextClosedAsync(GuestIo.Timeout)));

        // Denied: same address and port, another name.
        using (var guest = await world.DialAsync(new IPEndPoint(UpstreamAddress, 443)))
        {
            await using var tls = new SslStream(new NetworkStream(guest), false, LoopbackUpstream.IsTestCertificate);
            await Assert.ThrowsAnyAsync<IOException>(() => tls.AuthenticateAsClientAsync("denied.test").WaitAsync(GuestIo.Timeout));
        }

        var denial = await world.Audit.WaitForAsync(_ => true, GuestIo.Timeout);
        Assert.Equal(new EgressDenial("sb-ns", denial.Time, "denied.test", 443, "tcp", "host_not_allowed"), denial);
        Assert.Empty(await world.Server.NextClosedAsync(GuestIo.Timeout));
        Assert.Equal((1, 1, 0), (world.Guard.Statistics.AllowedNamed, world.Guard.Statistics.Denied, world.Guard.Statistics.RejectedNotRedirected));
    }

    [RootNetnsFact]
    public async Task A_learned_IPv6_destination_in_an_always_blocked_range_is_refused_without_connecting()
    {
        await using var world = await DualStack.CreateAsync(tls: false);
        var metadata = new IPEndPoint(Metadata, 80);

        Socket? guest = null;
        try
        {
            guest = await world.DialAsync(metadata);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            // Reset before the guest saw its handshake complete: refused all the same.
        }

        if (guest is not null)
        {
            using (guest)
            {
                Assert.Equal((string.Empty, true), await GuestIo.ReadToEndAsync(guest));
            }
        }

        var denial = await world.Audit.WaitForAsync(_ => true, GuestIo.Timeout);
        Assert.Equal(("fd00:ec2::254", 80, "host_not_allowed"), (denial.Destination, denial.Port, denial.Reason));
        Assert.Equal(1, world.Guard.Statistics.RefusedDestination);
        Assert.Equal(0, world.Server.Accepted);

        // The host could have reached it: the refusal was the guard's, not the network's.
        using var direct = SocketsIn.Run(world.HostPath, () => new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp));
        await direct.ConnectAsync(metadata).WaitAsync(GuestIo.Timeout);
        await GuestIo.WaitUntilAsync(() => world.Server.Accepted == 1, "the host's own connection reached the server");
    }

    [RootNetnsFact]
    public async Task IPv4_and_IPv6_guests_are_served_side_by_side_by_one_guard_with_shared_statistics()
    {
        await using var world = await DualStack.CreateAsync(tls: false);

        foreach (var destination in new[] { new IPEndPoint(UpstreamAddress, 80), new IPEndPoint(UpstreamAddress4, 80) })
        {
            using var guest = await world.DialAsync(destination);
            await GuestIo.SendAsync(guest, "GET / HTTP/1.1\r\nHost: allowed.test\r\n\r\n");
            guest.Shutdown(SocketShutdown.Send);
            Assert.Equal(("GET / HTTP/1.1\r\nHOST: ALLOWED.TEST\r\n\r\n", false), await GuestIo.ReadToEndAsync(guest));
        }

        Assert.Equal(AddressFamily.InterNetwork, world.Guard.LocalEndpoint.AddressFamily);
        Assert.Equal(AddressFamily.InterNetworkV6, world.Guard.LocalEndpoint6!.AddressFamily);
        Assert.NotEqual(0, world.Guard.LocalEndpoint6.Port);
        Assert.Equal((2, 2, 0), (world.Guard.Statistics.Accepted, world.Guard.Statistics.AllowedNamed, world.Guard.Statistics.RejectedNotRedirected));
        await GuestIo.WaitUntilAsync(() => world.Guard.Statistics.Open == 0, "both connections were released");
    }

    /// <summary>The three namespaces, the upstream server and the guard with both listeners behind the redirects.</summary>
    private sealed class DualStack : IAsyncDisposable
    {
        private readonly Namespaces _guest;
        private readonly Namespaces _host;
        private readonly Namespaces _upstream;
        private ConnectionGuard? _guard;
        private LoopbackUpstream? _server;

        private DualStack(Namespaces guest, Namespaces host, Namespaces upstream) => (_guest, _host, _upstream) = (guest, host, upstream);

        public ConnectionGuard Guard => _guard!;

        public LoopbackUpstream Server => _server!;

        public RecordingAudit Audit { get; } = new();

        public string HostPath => Path(_host);

        public static async Task<DualStack> CreateAsync(bool tls)
        {
            var world = new DualStack(Namespaces.Create("guest"), Namespaces.Create("host"), Namespaces.Create("up"));
            try
            {
                world.Start(tls);
                return world;
            }
            catch
            {
                await world.DisposeAsync();
                throw;
            }
        }

        /// <summary>A guest connection, from the guest namespace, to <paramref name="destination"/> (either family).</summary>
        public async Task<Socket> DialAsync(IPEndPoint destination)
        {
            var socket = SocketsIn.Run(Path(_guest), () => new Socket(destination.AddressFamily, SocketType.Stream, ProtocolType.Tcp));
            try
            {
                await socket.ConnectAsync(destination).WaitAsync(GuestIo.Timeout);
                return socket;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (_guard is not null)
            {
                await _guard.DisposeAsync();
            }

            _server?.Dispose();
            _guest.Dispose();
            _host.Dispose();
            _upstream.Dispose();
        }

        private static string Path(Namespaces ns) => $"/run/netns/{ns.Name}";

        private void Start(bool tls)
        {
            Wire();

            // One dual-stack listener upstream serves every address of the namespace, of both families.
            var listener = SocketsIn.Run(Path(_upstream), () => new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp) { DualMode = true });
            _server = new LoopbackUpstream(tls: tls, listener: listener, endpoint: new IPEndPoint(IPAddress.IPv6Any, tls ? 443 : 80));

            var learned = new LearnedDestinations();
            learned.Add("sb-ns", UpstreamAddress, 443);
            learned.Add("sb-ns", UpstreamAddress, 80);
            learned.Add("sb-ns", UpstreamAddress4, 80);
            learned.Add("sb-ns", Metadata, 80);
            var client = new DnsClient("sb-ns", TestNetworkPolicies.Compile("[allowed.test:443, allowed.test:80]"), AllowAll: false);
            var options = new ConnectionGuardOptions { Endpoint = new IPEndPoint(IPAddress.Any, 0), Endpoint6 = new IPEndPoint(IPAddress.IPv6Any, 0) };
            _guard = new ConnectionGuard(
                options, new OneClientDirectory(client, GuestAddress, GuestAddress4), learned, Audit, NullLogger.Instance, TimeProvider.System,
                RedirectedDestination.Instance,
                async (destination, ct) =>
                {
                    var socket = SocketsIn.Run(Path(_host), () => new Socket(destination.AddressFamily, SocketType.Stream, ProtocolType.Tcp));
                    await socket.ConnectAsync(destination, ct);
                    return socket;
                });
            _guard.Start(family => SocketsIn.Run(Path(_host), () => new Socket(family, SocketType.Stream, ProtocolType.Tcp)));

            var port = _guard.LocalEndpoint.Port.ToString(CultureInfo.InvariantCulture);
            var port6 = _guard.LocalEndpoint6!.Port.ToString(CultureInfo.InvariantCulture);
            _host.RunWithInput(
                $$"""
                table inet guardtest {
                  chain pre {
                    type nat hook prerouting priority dstnat; policy accept;
                    iifname "h0" meta nfproto ipv6 tcp dport { 80, 443 } redirect to :{{port6}}
                    iifname "h0" meta nfproto ipv4 tcp dport { 80, 443 } redirect to :{{port}}
                  }
                }

                """,
                "nft", "-f", "-");
        }

        // guest g0 fd77:1::2 10.77.1.2 <-> h0 fd77:1::1 10.77.1.1 host h1 fd88::1 10.88.0.1 <-> u0 fd88::5 10.88.0.5 upstream
        // The host reaches fd00:ec2::254 through the upstream, so only the guard's own check keeps a guest from it.
        private void Wire()
        {
            foreach (var ns in new[] { _guest, _host, _upstream })
            {
                // No duplicate address detection: addresses (link-local ones too) are usable at once.
                ns.Run("sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0");
            }

            _host.Run("ip", "link", "add", "h0", "type", "veth", "peer", "name", "g0", "netns", _guest.Name);
            _host.Run("ip", "link", "add", "h1", "type", "veth", "peer", "name", "u0", "netns", _upstream.Name);
            _host.Run("ip", "addr", "add", "10.77.1.1/24", "dev", "h0");
            _host.Run("ip", "addr", "add", "10.88.0.1/24", "dev", "h1");
            _host.Run("ip", "-6", "addr", "add", "fd77:1::1/64", "dev", "h0", "nodad");
            _host.Run("ip", "-6", "addr", "add", "fd88::1/64", "dev", "h1", "nodad");
            _host.Run("ip", "link", "set", "h0", "up");
            _host.Run("ip", "link", "set", "h1", "up");
            _host.Run("ip", "-6", "route", "add", "fd00:ec2::254/128", "via", "fd88::5");
            _guest.Run("ip", "addr", "add", "10.77.1.2/24", "dev", "g0");
            _guest.Run("ip", "-6", "addr", "add", "fd77:1::2/64", "dev", "g0", "nodad");
            _guest.Run("ip", "link", "set", "g0", "up");
            _guest.Run("ip", "route", "add", "default", "via", "10.77.1.1");
            _guest.Run("ip", "-6", "route", "add", "default", "via", "fd77:1::1");
            _upstream.Run("ip", "addr", "add", "10.88.0.5/24", "dev", "u0");
            _upstream.Run("ip", "-6", "addr", "add", "fd88::5/64", "dev", "u0", "nodad");
            _upstream.Run("ip", "-6", "addr", "add", "fd00:ec2::254/128", "dev", "u0", "nodad");
            _upstream.Run("ip", "link", "set", "u0", "up");
            _upstream.Run("ip", "route", "add", "default", "via", "10.88.0.1");
            _upstream.Run("ip", "-6", "route", "add", "default", "via", "fd88::1");
        }
    }
}
