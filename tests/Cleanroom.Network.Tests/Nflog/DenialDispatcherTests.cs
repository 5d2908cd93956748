using Cleanroom.Network.Nflog;
using Cleanroom.Network.Tests.Nflog.Support;
using Microsoft.Extensions.Logging.Abstractions;
using static Cleanroom.Network.Tests.Nflog.Support.NetlinkBytes;

namespace Cleanroom.Network.Tests.Nflog;

public class DenialDispatcherTests
{
    private const ushort Group = 7;
    private readonly ManualTimeProvider _time = new();
    private readonly NflogCounters _counters = new();

    [Fact]
    public void A_logged_packet_becomes_a_host_not_allowed_denial_for_its_sandbox()
    {
        var audit = new RecordingAudit();
        var dispatcher = Dispatcher(audit, p => p.Prefix == "12" ? "sbx-12" : null);
        var v6 = IpPackets.V6("fd00:20::2", "2001:db8::53", IpPackets.Tcp, IpPackets.Ports(1, 8080));
        var v4 = IpPackets.V4("10.20.0.2", "192.0.2.1", IpPackets.Icmp, IpPackets.Echo(8));

        dispatcher.Dispatch(Datagram(Message(PacketType, PacketBody(Group, FamilyIPv6, v6, prefix: "12")), Message(PacketType, PacketBody(Group, FamilyIPv4, v4, prefix: "12"))));

        Assert.Equal(
            [
                new EgressDenial("sbx-12", _time.GetUtcNow(), "2001:db8::53", 8080, "tcp", "host_not_allowed"),
                new EgressDenial("sbx-12", _time.GetUtcNow(), "192.0.2.1", 0, "icmp", "host_not_allowed"),
            ],
            audit.Drain());
        Assert.Equal(new NflogReaderStatistics(1, 2, 2, 0, 0, 0, 0, 0, 0, 0), _counters.Snapshot());
    }

    [Fact]
    public void Packets_of_no_sandbox_are_counted_not_reported()
    {
        var audit = new RecordingAudit();

        Dispatcher(audit, _ => null).Dispatch(Udp("10.20.0.2", 53));

        Assert.Empty(audit.Drain());
        Assert.Equal(1, _counters.Snapshot().Unattributed);
    }

    [Fact]
    public void A_flooding_sandbox_is_suppressed_beyond_its_burst_while_others_still_report()
    {
        var audit = new RecordingAudit();
        var dispatcher = Dispatcher(audit, p => p.Source.ToString() == "10.20.0.2" ? "flood" : "other", burst: 3);

        for (var i = 0; i < 10; i++)
        {
            dispatcher.Dispatch(Udp("10.20.0.2", 1000 + i));
        }

        dispatcher.Dispatch(Udp("10.30.0.2", 53));

        Assert.Equal([1000, 1001, 1002, 53], audit.Drain().Select(d => d.Port));
        var statistics = _counters.Snapshot();
        Assert.Equal(7, statistics.Suppressed);
        Assert.Equal(4, statistics.Reported);
    }

    [Fact]
    public void A_throwing_audit_or_lookup_is_counted_and_the_next_packet_still_goes_through()
    {
        var audit = new RecordingAudit { Fail = d => d.Port == 1 ? new InvalidOperationException("disk full") : null };
        var dispatcher = Dispatcher(audit, p => p.DestinationPort == 2 ? throw new KeyNotFoundException() : "sbx");

        dispatcher.Dispatch(Udp("10.20.0.2", 1));
        dispatcher.Dispatch(Udp("10.20.0.2", 2));
        dispatcher.Dispatch(Udp("10.20.0.2", 3));

        Assert.Equal([3], audit.Drain().Select(d => d.Port));
        Assert.Equal(2, _counters.Snapshot().HandlerFailures);
    }

    [Fact]
    public void Malformed_messages_and_overruns_are_counted()
    {
        var dispatcher = Dispatcher(new RecordingAudit(), _ => "sbx");

        dispatcher.Dispatch(Datagram(Message(PacketType, Body(Group, FamilyIPv4)), Message(Overrun, [])));

        var statistics = _counters.Snapshot();
        Assert.Equal(1, statistics.Malformed);
        Assert.Equal(1, statistics.KernelDrops);
        Assert.Equal(0, statistics.Packets);
    }

    private static byte[] Udp(string source, int port) =>
        Datagram(Message(PacketType, PacketBody(Group, FamilyIPv4, IpPackets.V4(source, "198.51.100.7", IpPackets.Udp, IpPackets.Ports(1, port)))));

    private DenialDispatcher Dispatcher(RecordingAudit audit, Func<LoggedPacket, string?> sandboxOf, int burst = 20) =>
        new(Group, sandboxOf, audit, new SandboxRateLimiter(1, burst, _time), _counters, _time, NullLogger.Instance);
}
