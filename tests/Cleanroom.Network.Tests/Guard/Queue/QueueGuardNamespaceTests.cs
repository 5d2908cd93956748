using System.Net;
using System.Net.Sockets;
using System.Text;
using Cleanroom.Network.Guard.Queue;
using Cleanroom.Network.Tests.Guard.Queue.Support;
using Cleanroom.Network.Tests.Guard.Support;
using Cleanroom.Network.Tests.Nflog.Support;

namespace Cleanroom.Network.Tests.Guard.Queue;

/// <summary>
/// The queue guard against the kernel: real NFQUEUE, conntrack marks and the rendered table in a host namespace, a
/// guest namespace behind a veth that carries the TAP's name, servers in a third namespace (see
/// <see cref="QueueTestNetwork"/>). The guest's connections go straight to the server; only their first message is
/// looked at.
/// </summary>
[Collection(NflogNamespaceTests.Name)]
public class QueueGuardNamespaceTests
{
    private const string Allow = "[allowed.test:443, allowed.test:80]";
    private static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(500);

    [RootNetnsFact]
    public async Task An_allowed_server_name_passes_and_then_megabytes_flow_without_the_queue()
    {
        await using var network = QueueTestNetwork.Create(Allow);
        const int megabytes = 4 << 20;
        var server = network.Serve(new IPEndPoint(IPAddress.Any, 443), replyBytes: megabytes);
        var guard = network.StartGuard();

        using var guest = await network.ConnectAsync(new IPEndPoint(QueueTestNetwork.Server, 443));
        var hello = TlsBytes.ClientHello("allowed.test");
        await guest.SendAsync(hello);
        await GuestIo.WaitUntilAsync(() => guard.Statistics.AllowedNamed == 1, "the server name was allowed");
        var queuedAtDecision = guard.Statistics.Packets;

        var upload = new byte[megabytes];
        await guest.SendAsync(upload).WaitAsync(GuestIo.Timeout);
        guest.Shutdown(SocketShutdown.Send);
        long downloaded = 0;
        var buffer = new byte[64 * 1024];
        using (var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20)))
        {
            int n;
            while ((n = await guest.ReceiveAsync(buffer, SocketFlags.None, deadline.Token)) > 0)
            {
                downloaded += n;
            }
        }

        var connection = await server.NextAsync(GuestIo.Timeout);
        await connection.Ended.Task.WaitAsync(GuestIo.Timeout);
        Assert.Equal(hello.Length + megabytes, connection.Received);
        Assert.Equal(hello, connection.FirstBytes.Take(hello.Length));
        Assert.Equal(megabytes, downloaded);

        // Thousands of segments went both ways; at most those queued before the mark took effect reached user space.
        Assert.InRange(guard.Statistics.Packets - queuedAtDecision, 0, 16);
        Assert.Equal((0, 0L), (guard.Statistics.Denied, guard.Statistics.RefusedUnreadable));
        Assert.Contains("queue num 7352", network.Ruleset(), StringComparison.Ordinal);
    }

    [RootNetnsFact]
    public async Task A_denied_server_name_on_the_same_address_is_reset_and_the_server_receives_nothing()
    {
        await using var network = QueueTestNetwork.Create(Allow);
        var server = network.Serve(new IPEndPoint(IPAddress.Any, 443));
        var guard = network.StartGuard();

        using var guest = await network.ConnectAsync(new IPEndPoint(QueueTestNetwork.Server, 443));
        var connection = await server.NextAsync(GuestIo.Timeout); // the handshake itself reaches the server
        await guest.SendAsync(TlsBytes.ClientHello("denied.test"));
        var (_, reset) = await GuestIo.ReadToEndAsync(guest);

        Assert.True(reset, "the guest's connection was reset");
        var denial = await network.Audit.WaitForAsync(_ => true, GuestIo.Timeout);
        Assert.Equal(new EgressDenial(QueueTestNetwork.SandboxId, denial.Time, "denied.test", 443, "tcp", "host_not_allowed"), denial);
        await Task.Delay(Settle);
        Assert.Equal(0, connection.Received);
        Assert.Equal((1L, 0L), (guard.Statistics.Denied, guard.Statistics.AllowedNamed));
    }

    [RootNetnsTheory]
    [InlineData("allowed.test", true)]
    [InlineData("denied.test", false)]
    public async Task A_client_hello_cut_into_small_segments_is_put_together_and_decided(string name, bool allowed)
    {
        await using var network = QueueTestNetwork.Create(Allow);
        var server = network.Serve(new IPEndPoint(IPAddress.Any, 443));
        var guard = network.StartGuard();

        // The smallest MSS Linux allows: the ClientHello (with a long padding extension) needs many segments.
        using var guest = await network.ConnectAsync(
            new IPEndPoint(QueueTestNetwork.Server, 443), socket => socket.SetRawSocketOption(6 /* IPPROTO_TCP */, 2 /* TCP_MAXSEG */, BitConverter.GetBytes(88)));
        var connection = await server.NextAsync(GuestIo.Timeout);
        var hello = TlsBytes.Records(TlsBytes.Handshake(TlsBytes.ClientHelloBody([(21, new byte[600]), (0, TlsBytes.ServerName(name))])));
        await guest.SendAsync(hello);
        if (allowed)
        {
            await GuestIo.WaitUntilAsync(() => connection.Received == hello.Length, "the whole ClientHello reached the server");
            Assert.Equal(hello, connection.FirstBytes);
        }
        else
        {
            var (_, reset) = await GuestIo.ReadToEndAsync(guest);
            Assert.True(reset);
            await Task.Delay(Settle);
            Assert.Equal(0, connection.Received);
        }

        Assert.True(guard.Statistics.Held >= 5, $"held {guard.Statistics.Held} segments");
        Assert.Equal(allowed ? (1L, 0L) : (0L, 1L), (guard.Statistics.AllowedNamed, guard.Statistics.Denied));
    }

    [RootNetnsTheory]
    [InlineData("allowed.test", true)]
    [InlineData("denied.test", false)]
    public async Task An_http_host_is_checked(string host, bool allowed)
    {
        await using var network = QueueTestNetwork.Create(Allow);
        var server = network.Serve(new IPEndPoint(IPAddress.Any, 80));
        var guard = network.StartGuard();

        using var guest = await network.ConnectAsync(new IPEndPoint(QueueTestNetwork.Server, 80));
        var connection = await server.NextAsync(GuestIo.Timeout);
        var request = Encoding.ASCII.GetBytes($"GET / HTTP/1.1\r\nHost: {host}\r\nUser-Agent: test\r\n\r\n");
        await guest.SendAsync(request);
        if (allowed)
        {
            await GuestIo.WaitUntilAsync(() => connection.Received == request.Length, "the request reached the server");
        }
        else
        {
            var (_, reset) = await GuestIo.ReadToEndAsync(guest);
            Assert.True(reset);
            await Task.Delay(Settle);
            Assert.Equal(0, connection.Received);
            var denial = await network.Audit.WaitForAsync(_ => true, GuestIo.Timeout);
            Assert.Equal((host, 80, "host_not_allowed"), (denial.Destination, denial.Port, denial.Reason));
        }

        Assert.Equal(allowed ? 1L : 0L, guard.Statistics.AllowedNamed);
    }

    [RootNetnsFact]
    public async Task IPv6_connections_are_checked_alike()
    {
        await using var network = QueueTestNetwork.Create(Allow);
        var server = network.Serve(new IPEndPoint(IPAddress.IPv6Any, 443));
        var guard = network.StartGuard();
        var destination = new IPEndPoint(QueueTestNetwork.Server6, 443);

        using (var guest = await network.ConnectAsync(destination))
        {
            var connection = await server.NextAsync(GuestIo.Timeout);
            var hello = TlsBytes.ClientHello("allowed.test");
            await guest.SendAsync(hello);
            await GuestIo.WaitUntilAsync(() => connection.Received == hello.Length, "the ClientHello reached the server");
        }

        using (var guest = await network.ConnectAsync(destination))
        {
            var connection = await server.NextAsync(GuestIo.Timeout);
            await guest.SendAsync(TlsBytes.ClientHello("denied.test"));
            var (_, reset) = await GuestIo.ReadToEndAsync(guest);
            Assert.True(reset);
            await Task.Delay(Settle);
            Assert.Equal(0, connection.Received);
        }

        Assert.Equal((1L, 1L), (guard.Statistics.AllowedNamed, guard.Statistics.Denied));
    }

    [RootNetnsFact]
    public async Task Undecided_connections_and_held_bytes_are_bounded_and_the_excess_is_refused()
    {
        await using var network = QueueTestNetwork.Create(Allow);
        var server = network.Serve(new IPEndPoint(IPAddress.Any, 443));
        var guard = network.StartGuard(new QueueGuardOptions
        {
            MaxFlowsPerSandbox = 6,
            MaxFlows = 6,
            MaxFirstMessageBytes = 1024,
            MaxHeldBytesPerFlow = 1024,
            MaxHeldBytes = 2048,
        });

        // Half-open flood: six handshakes are tracked, the rest are dropped at their SYN.
        var open = new List<Socket>();
        for (var i = 0; i < 10; i++)
        {
            var socket = await QueueTestNetwork.TryConnectAsync(network.GuestSocket(AddressFamily.InterNetwork), new IPEndPoint(QueueTestNetwork.Server, 443), TimeSpan.FromMilliseconds(700));
            if (socket is not null)
            {
                open.Add(socket);
            }
        }

        try
        {
            Assert.Equal(6, open.Count);
            Assert.True(guard.Statistics.RejectedOverLimit >= 4);

            // Three connections send the first 700 bytes of a 1000-byte ClientHello: held, undecided, and the third
            // goes over the 2048 bytes held in all.
            var hello = TlsBytes.Records(TlsBytes.Handshake(TlsBytes.ClientHelloBody([(21, new byte[880]), (0, TlsBytes.ServerName("allowed.test"))])));
            Assert.InRange(hello.Length, 900, 1024);
            var partial = hello[..700];
            foreach (var socket in open.Take(3))
            {
                await socket.SendAsync(partial);
            }

            await GuestIo.WaitUntilAsync(() => guard.Statistics.RejectedOverLimit >= 5, "the third connection went over the total");
            await Task.Delay(Settle);
            var stats = guard.Statistics;
            Assert.True(stats.HeldBytesNow is > 0 and <= 2048, $"held {stats.HeldBytesNow} bytes; held {stats.Held}, unreadable {stats.RefusedUnreadable}, over {stats.RejectedOverLimit}, dropped {stats.Dropped}, flows {stats.TrackedFlows}: {string.Join(" | ", network.Logger.Lines)}");
            var (_, reset) = await GuestIo.ReadToEndAsync(open[2]);
            Assert.True(reset, "the connection over the bound was reset");
            for (var i = 0; i < open.Count; i++)
            {
                Assert.Equal(0, (await server.NextAsync(GuestIo.Timeout)).Received);
            }
        }
        finally
        {
            foreach (var socket in open)
            {
                socket.Dispose();
            }
        }
    }

    [RootNetnsFact]
    public async Task Without_a_reader_on_the_queue_nothing_passes()
    {
        await using var network = QueueTestNetwork.Create(Allow);
        var server = network.Serve(new IPEndPoint(IPAddress.Any, 443));

        // Nobody bound the queue yet: the handshake itself is dropped.
        Assert.Null(await QueueTestNetwork.TryConnectAsync(network.GuestSocket(AddressFamily.InterNetwork), new IPEndPoint(QueueTestNetwork.Server, 443), TimeSpan.FromSeconds(2)));

        // With the guard the handshake passes; stopped before the first message, the ClientHello never arrives.
        var guard = network.StartGuard();
        using var guest = await network.ConnectAsync(new IPEndPoint(QueueTestNetwork.Server, 443));
        var connection = await server.NextAsync(GuestIo.Timeout);
        await guard.StopAsync();
        await guest.SendAsync(TlsBytes.ClientHello("allowed.test"));
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Equal(0, connection.Received);
        Assert.Null(await QueueTestNetwork.TryConnectAsync(network.GuestSocket(AddressFamily.InterNetwork), new IPEndPoint(QueueTestNetwork.Server, 443), TimeSpan.FromSeconds(2)));
    }

    [RootNetnsFact]
    public async Task Without_the_queue_rule_the_chain_drops()
    {
        await using var network = QueueTestNetwork.Create(Allow, installQueueRule: false);
        network.Serve(new IPEndPoint(IPAddress.Any, 443));
        network.StartGuard();
        Assert.Null(await QueueTestNetwork.TryConnectAsync(network.GuestSocket(AddressFamily.InterNetwork), new IPEndPoint(QueueTestNetwork.Server, 443), TimeSpan.FromSeconds(2)));
    }
}
