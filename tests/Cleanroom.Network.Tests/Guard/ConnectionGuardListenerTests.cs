using System.Net;
using System.Net.Sockets;
using Cleanroom.Network.Dns;
using Cleanroom.Network.Guard;
using Cleanroom.Network.Tests.Guard.Support;
using Cleanroom.Network.Tests.Nflog.Support;
using Cleanroom.Network.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cleanroom.Network.Tests.Guard;

/// <summary>The guard's listeners on loopback: one per family, bound together or not at all.</summary>
public class ConnectionGuardListenerTests
{
    [Fact]
    public async Task An_IPv6_endpoint_gets_its_own_IPv6_only_listener_with_the_port_the_system_chose()
    {
        await using var guard = NewGuard(new ConnectionGuardOptions { Endpoint = new(IPAddress.Loopback, 0), Endpoint6 = new(IPAddress.IPv6Any, 0) });
        guard.Start();

        Assert.Equal(IPAddress.IPv6Any, guard.LocalEndpoint6!.Address);
        Assert.NotEqual(0, guard.LocalEndpoint6.Port);
        Assert.NotEqual(0, guard.LocalEndpoint.Port);

        // IPV6_V6ONLY: the IPv6 wildcard leaves the same port free for IPv4 (a dual-stack one would hold it on every IPv4
        // address). Bound on 127.0.0.2, not the IPv4 wildcard: that one also collides with any other socket on the
        // port, such as another test's connection from 127.0.0.1 that got it as its ephemeral port (CI failed so once).
        using (var v4 = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            v4.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.2"), guard.LocalEndpoint6.Port));
        }

        // A connection to it is accepted and counted with the others (this one, from an unknown source, is reset).
        using var guest = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await guest.ConnectAsync(new IPEndPoint(IPAddress.IPv6Loopback, guard.LocalEndpoint6.Port)).WaitAsync(GuestIo.Timeout);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            // Reset before the handshake was seen complete.
        }

        await GuestIo.WaitUntilAsync(() => guard.Statistics.RejectedUnknownSource == 1, "the IPv6 connection was accepted and refused");
    }

    [Fact]
    public async Task Without_an_IPv6_endpoint_there_is_no_IPv6_listener()
    {
        await using var guard = NewGuard(new ConnectionGuardOptions { Endpoint = new(IPAddress.Loopback, 0) });
        guard.Start();

        Assert.Null(guard.LocalEndpoint6);
    }

    [Fact]
    public async Task When_the_IPv6_endpoint_cannot_be_bound_start_throws_and_leaves_the_IPv4_one_unbound()
    {
        using var taken = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp) { DualMode = false };
        taken.Bind(new IPEndPoint(IPAddress.IPv6Loopback, 0));
        taken.Listen(1);
        var port4 = FreeLoopbackPort();
        await using var guard = NewGuard(new ConnectionGuardOptions
        {
            Endpoint = new(IPAddress.Loopback, port4),
            Endpoint6 = (IPEndPoint)taken.LocalEndPoint!,
        });

        var error = Assert.Throws<SocketException>(guard.Start);

        Assert.Equal(SocketError.AddressAlreadyInUse, error.SocketErrorCode);
        using var again = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        again.Bind(new IPEndPoint(IPAddress.Loopback, port4));
    }

    [Fact]
    public void Endpoints_of_the_wrong_family_are_refused_at_once()
    {
        Assert.Throws<ArgumentException>(() => NewGuard(new ConnectionGuardOptions { Endpoint6 = new(IPAddress.Loopback, 0) }));
        Assert.Throws<ArgumentException>(() => NewGuard(new ConnectionGuardOptions { Endpoint = new(IPAddress.IPv6Loopback, 0) }));
    }

    private static ConnectionGuard NewGuard(ConnectionGuardOptions options) =>
        new(options, new OneClientDirectory(new DnsClient("sb", TestNetworkPolicies.Compile("[]"), AllowAll: false), IPAddress.Parse("192.0.2.1")),
            new LearnedDestinations(), new RecordingAudit(), NullLogger.Instance);

    private static int FreeLoopbackPort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }
}
