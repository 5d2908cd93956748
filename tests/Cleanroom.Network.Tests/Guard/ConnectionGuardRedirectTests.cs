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
/// The guard behind a real nftables <c>redirect to :PORT</c>, so the original destination comes from the kernel
/// (SO_ORIGINAL_DST). Three namespaces the test creates: a guest (10.77.1.2), the host running the guard with the
/// redirect on the guest's link, and an upstream (10.88.0.5) serving TLS on 443. Nothing leaves them.
/// </summary>
[Collection(NflogNamespaceTests.Name)]
public class ConnectionGuardRedirectTests
{
    private static readonly IPAddress GuestAddress = IPAddress.Parse("10.77.1.2");
    private static readonly IPAddress UpstreamAddress = IPAddress.Parse("10.88.0.5");

    [RootNetnsFact]
    public async Task Through_a_real_redirect_an_allowed_server_name_passes_and_a_denied_one_on_the_same_address_is_cut()
    {
        using var guestNs = Namespaces.Create("guest");
        using var hostNs = Namespaces.Create("host");
        using var upstreamNs = Namespaces.Create("up");
        Wire(guestNs, hostNs, upstreamNs);

        using var server = new LoopbackUpstream(
            tls: true, listener: SocketsIn.Run(Path(upstreamNs), NewTcpSocket), endpoint: new IPEndPoint(UpstreamAddress, 443));
        var learned = new LearnedDestinations();
        learned.Add("sb-ns", UpstreamAddress, 443);
        var audit = new RecordingAudit();
        var directory = new OneClientDirectory(new DnsClient("sb-ns", TestNetworkPolicies.Compile("[allowed.test:443]"), AllowAll: false), GuestAddress);
        var options = new ConnectionGuardOptions { Endpoint = new IPEndPoint(IPAddress.Any, 0) };
        await using var guard = new ConnectionGuard(
            options, directory, learned, audit, NullLogger.Instance, TimeProvider.System, RedirectedDestination.Instance,
            async (destination, ct) =>
            {
                var socket = SocketsIn.Run(Path(hostNs), NewTcpSocket);
                await socket.ConnectAsync(destination, ct);
                return socket;
            });
        guard.Start(_ => SocketsIn.Run(Path(hostNs), NewTcpSocket));
        var port = guard.LocalEndpoint.Port.ToString(CultureInfo.InvariantCulture);
        hostNs.RunWithInput(
            $"table ip guardtest {{\n  chain pre {{\n    type nat hook prerouting priority dstnat; policy accept;\n    iifname \"h0\" tcp dport 443 redirect to :{port}\n  }}\n}}\n",
            "nft", "-f", "-");

        // Allowed: a real TLS session to 10.88.0.5:443 goes through the guard and both directions flow.
        using (var guest = await DialAsync(guestNs))
        {
            await using var tls = new SslStream(new NetworkStream(guest), false, LoopbackUpstream.IsTestCertificate);
            await tls.AuthenticateAsClientAsync("allowed.test").WaitAsync(GuestIo.Timeout);
            await tls.WriteAsync("through the redirect\n"u8.ToArray());
            var reply = new byte[64];
            var n = await tls.ReadAsync(reply).AsTask().WaitAsync(GuestIo.Timeout);
            Assert.Equal("THROUGH THE REDIRECT\n", Encoding.ASCII.GetString(reply, 0, n));
        }

        Assert.Equal("through the redirect\n", Encoding.ASCII.GetString(await server.NextClosedAsync(GuestIo.Timeout)));

        // Denied: same address and port, another name.
        using (var guest = await DialAsync(guestNs))
        {
            await using var tls = new SslStream(new NetworkStream(guest), false, LoopbackUpstream.IsTestCertificate);
            await Assert.ThrowsAnyAsync<IOException>(() => tls.AuthenticateAsClientAsync("denied.test").WaitAsync(GuestIo.Timeout));
        }

        var denial = await audit.WaitForAsync(_ => true, GuestIo.Timeout);
        Assert.Equal(new EgressDenial("sb-ns", denial.Time, "denied.test", 443, "tcp", "host_not_allowed"), denial);
        Assert.Empty(await server.NextClosedAsync(GuestIo.Timeout));
        Assert.Equal((1, 1, 0), (guard.Statistics.AllowedNamed, guard.Statistics.Denied, guard.Statistics.RejectedNotRedirected));
    }

    private static Socket NewTcpSocket() => new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

    private static string Path(Namespaces ns) => $"/run/netns/{ns.Name}";

    private static async Task<Socket> DialAsync(Namespaces guestNs)
    {
        var socket = SocketsIn.Run(Path(guestNs), NewTcpSocket);
        await socket.ConnectAsync(new IPEndPoint(UpstreamAddress, 443)).WaitAsync(GuestIo.Timeout);
        return socket;
    }

    // guest g0 10.77.1.2 <-> h0 10.77.1.1 host h1 10.88.0.1 <-> u0 10.88.0.5 upstream
    private static void Wire(Namespaces guest, Namespaces host, Namespaces upstream)
    {
        host.Run("ip", "link", "add", "h0", "type", "veth", "peer", "name", "g0", "netns", guest.Name);
        host.Run("ip", "link", "add", "h1", "type", "veth", "peer", "name", "u0", "netns", upstream.Name);
        host.Run("ip", "addr", "add", "10.77.1.1/24", "dev", "h0");
        host.Run("ip", "addr", "add", "10.88.0.1/24", "dev", "h1");
        host.Run("ip", "link", "set", "h0", "up");
        host.Run("ip", "link", "set", "h1", "up");
        guest.Run("ip", "addr", "add", "10.77.1.2/24", "dev", "g0");
        guest.Run("ip", "link", "set", "g0", "up");
        guest.Run("ip", "route", "add", "default", "via", "10.77.1.1");
        upstream.Run("ip", "addr", "add", "10.88.0.5/24", "dev", "u0");
        upstream.Run("ip", "link", "set", "u0", "up");
        upstream.Run("ip", "route", "add", "default", "via", "10.88.0.1");
    }
}
