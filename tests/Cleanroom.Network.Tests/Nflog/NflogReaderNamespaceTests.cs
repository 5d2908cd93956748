using System.Collections.Concurrent;
using System.Net;
using Cleanroom.Network.Nflog;
using Cleanroom.Network.Tests.Nflog.Support;

namespace Cleanroom.Network.Tests.Nflog;

/// <summary>
/// The reader against the real kernel: each test makes a network namespace with an nftables table that logs and drops
/// traffic to a veth interface's subnet, opens the NFLOG socket inside it (setns on a dedicated thread: a netlink
/// socket stays in the namespace it was created in), sends real packets from sockets created there, and removes the
/// namespace afterwards, pass or fail.
/// </summary>
[Collection(NflogNamespaceTests.Name)]
public class NflogReaderNamespaceTests
{
    private static readonly TimeSpan EventTimeout = TimeSpan.FromSeconds(10);

    public static TheoryData<string, string, int, string> Flows() => new()
    {
        { "udp", "10.77.0.9", 5353, "udp" },
        { "tcp", "10.77.0.10", 443, "tcp" },
        { "icmp", "10.77.0.11", 0, "icmp" },
        { "udp", "fd77::9", 8053, "udp" },
        { "tcp", "fd77::10", 22, "tcp" },
        { "icmp", "fd77::11", 0, "icmpv6" },
    };

    [RootNetnsTheory]
    [MemberData(nameof(Flows))]
    public async Task A_dropped_packet_is_reported_with_its_destination_port_and_protocol(string send, string destination, int port, string protocol)
    {
        await using var ns = await TestNetworkNamespace.CreateAsync();
        var audit = new RecordingAudit();
        var seen = new ConcurrentQueue<LoggedPacket>();
        var reader = NflogReader.Start(Options(ns), p =>
        {
            seen.Enqueue(p);
            return p.Prefix == TestNetworkNamespace.Prefix ? "sbx-42" : null;
        }, audit);
        try
        {
            var address = IPAddress.Parse(destination);
            switch (send)
            {
                case "udp":
                    ns.SendUdp(address, port);
                    break;
                case "tcp":
                    ns.StartTcp(address, port);
                    break;
                default:
                    ns.Ping(address);
                    break;
            }

            var denial = await audit.WaitForAsync(d => d.Destination == address.ToString(), EventTimeout);

            Assert.Equal(new EgressDenial("sbx-42", denial.Time, address.ToString(), port, protocol, "host_not_allowed"), denial);
            Assert.InRange(denial.Time, DateTimeOffset.UtcNow - EventTimeout, DateTimeOffset.UtcNow);
            var packet = seen.First(p => p.Destination.Equals(address));
            var local = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? TestNetworkNamespace.LocalV4 : TestNetworkNamespace.LocalV6;
            Assert.Equal(local, packet.Source);
            Assert.Equal(ns.LinkIndex, packet.OutputInterfaceIndex);
            Assert.Equal(0, packet.InputInterfaceIndex);
        }
        finally
        {
            await reader.StopAsync().WaitAsync(TimeSpan.FromSeconds(5));
        }

        Assert.True(reader.Completion.IsCompletedSuccessfully);
        var statistics = reader.Statistics;
        Assert.Equal(0, statistics.Malformed);
        Assert.Equal(0, statistics.KernelDrops);
        Assert.True(statistics.Reported >= 1);
    }

    [RootNetnsFact]
    public async Task A_forwarded_packet_from_a_guest_link_is_attributed_by_its_input_interface()
    {
        await using var namespaces = await ForwardingTestNamespaces.CreateAsync();
        var audit = new RecordingAudit();
        var options = new NflogReaderOptions
        {
            Group = ForwardingTestNamespaces.Group,
            NetworkNamespacePath = namespaces.HostPath,
            FlushTimeout = TimeSpan.FromMilliseconds(20),
        };
        await using var reader = NflogReader.Start(
            options,
            p => p.InputInterfaceIndex == namespaces.GuestLinkIndex && p.Prefix is null ? "sbx-tap" : null,
            audit);

        namespaces.SendUdpFromGuest(IPAddress.Parse("198.51.100.7"), 53);

        var denial = await audit.WaitForAsync(d => d.Destination == "198.51.100.7", EventTimeout);
        Assert.Equal(new EgressDenial("sbx-tap", denial.Time, "198.51.100.7", 53, "udp", "host_not_allowed"), denial);
    }

    [RootNetnsFact]
    public async Task Stop_returns_promptly_while_idle_and_unbinds_the_group()
    {
        await using var ns = await TestNetworkNamespace.CreateAsync();
        var reader = NflogReader.Start(Options(ns), _ => "sbx", new RecordingAudit());
        Assert.True(NflogProbe.CanOpen(TestNetworkNamespace.Group, ns.Path).GroupInUse);

        await reader.StopAsync().WaitAsync(TimeSpan.FromSeconds(2));
        await reader.DisposeAsync();

        Assert.True(reader.Completion.IsCompletedSuccessfully);
        Assert.False(NflogProbe.CanOpen(TestNetworkNamespace.Group, ns.Path).GroupInUse);
    }

    [RootNetnsFact]
    public async Task A_second_reader_on_a_bound_group_is_refused_with_a_clear_message()
    {
        await using var ns = await TestNetworkNamespace.CreateAsync();
        await using var first = NflogReader.Start(Options(ns), _ => "sbx", new RecordingAudit());

        var refused = Assert.Throws<NflogException>(() => NflogReader.Start(Options(ns), _ => "sbx", new RecordingAudit()));

        Assert.Contains($"group {TestNetworkNamespace.Group} is already bound", refused.Message, StringComparison.Ordinal);
    }

    [RootNetnsFact]
    public async Task The_probe_finds_nflog_usable_and_the_group_free_in_a_fresh_namespace()
    {
        await using var ns = await TestNetworkNamespace.CreateAsync();

        var result = NflogProbe.CanOpen(TestNetworkNamespace.Group, ns.Path);

        Assert.Equal(new NflogProbeResult(true, false, $"NFLOG is available and group {TestNetworkNamespace.Group} is free."), result);
    }

    [RootNetnsFact]
    public async Task A_full_receive_buffer_is_reported_as_kernel_drops_and_the_socket_keeps_delivering()
    {
        await using var ns = await TestNetworkNamespace.CreateAsync();
        using var socket = NflogSubscription.Open(Options(ns));
        // The smallest buffer the kernel allows: one batch fits, the next ones overflow.
        socket.SetReceiveBuffer(1);

        for (var i = 0; i < 300; i++)
        {
            ns.SendUdp(IPAddress.Parse("10.77.0.20"), 1000 + i);
        }

        var drops = 0;
        var datagrams = 0;
        var buffer = new byte[256 * 1024];
        var deadline = DateTime.UtcNow + EventTimeout;
        while ((drops == 0 || datagrams == 0) && DateTime.UtcNow < deadline)
        {
            if (socket.WaitReadable(stop: null, timeoutMilliseconds: 1000) != NetlinkSocket.WaitOutcome.Readable)
            {
                continue;
            }

            var received = socket.TryReceive(buffer);
            drops += received.Status == ReceiveStatus.KernelDropped ? 1 : 0;
            datagrams += received.Status == ReceiveStatus.Datagram ? 1 : 0;
        }

        Assert.True(drops > 0, "no ENOBUFS although the buffer overflowed");
        Assert.True(datagrams > 0, "nothing delivered besides the overflow");
    }

    private static NflogReaderOptions Options(TestNetworkNamespace ns) => new()
    {
        Group = TestNetworkNamespace.Group,
        NetworkNamespacePath = ns.Path,
        FlushTimeout = TimeSpan.FromMilliseconds(20),
    };
}
