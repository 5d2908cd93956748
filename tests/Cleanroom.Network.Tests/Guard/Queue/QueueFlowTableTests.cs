using System.Net;
using System.Text;
using Cleanroom.Network.Dns;
using Cleanroom.Network.Guard.Queue;
using Cleanroom.Network.Tests.Guard.Queue.Support;
using Cleanroom.Network.Tests.Guard.Support;
using Cleanroom.Network.Tests.Nflog.Support;
using Cleanroom.Network.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cleanroom.Network.Tests.Guard.Queue;

/// <summary>The queue guard's decisions on hand-made segments: verdicts, marks, audit and every bound.</summary>
public class QueueFlowTableTests
{
    private const long Isn = 0xFFFF_FF00; // close to wrapping: offsets must survive it
    private static readonly IPAddress Guest = IPAddress.Parse("10.213.0.2");
    private static readonly IPAddress Server = IPAddress.Parse("192.0.2.10");

    private readonly ManualTimeProvider _time = new();
    private readonly RecordingActions _actions = new();
    private readonly RecordingAudit _audit = new();
    private readonly LearnedDestinations _learned = new();
    private readonly QueueGuardStatistics _statistics = new();
    private uint _nextId = 1;

    public QueueFlowTableTests()
    {
        _learned.Add("sb", Server, 443);
        _learned.Add("sb", Server, 80);
    }

    [Fact]
    public void An_allowed_client_hello_is_held_until_complete_then_released_in_order_after_the_mark()
    {
        var table = Table();
        var key = Key(40000, 443);
        Assert.Equal(1u, Syn(table, key));
        var ack = Send(table, key, Isn + 1, TcpFlags.Ack, []);
        var hello = TlsBytes.ClientHello("allowed.test");

        // Second half first, then a duplicate of it, then the first half.
        var second = Send(table, key, Isn + 1 + 100, TcpFlags.Ack, hello.AsSpan(100..));
        var duplicate = Send(table, key, Isn + 1 + 100, TcpFlags.Ack, hello.AsSpan(100..));
        Assert.Equal([(1u, true), (ack, true), (duplicate, false)], _actions.Verdicts);
        Assert.Empty(_actions.Marks);
        var first = Send(table, key, Isn + 1, TcpFlags.Ack | TcpFlags.Psh, hello.AsSpan(..100));

        Assert.Equal([(key, QueueGuardMarks.Verified)], _actions.Marks);
        Assert.Equal([1u, ack, first, second], _actions.Accepted);
        Assert.Equal(1, _statistics.AllowedNamed);
        Assert.Equal((0, 0, 0L), (table.Flows, table.HeldPackets, table.HeldBytes));

        // Queued before the mark took effect: the decision stands.
        var late = Send(table, key, Isn + 1 + (uint)hello.Length, TcpFlags.Ack, [1, 2, 3]);
        Assert.Equal((late, true), _actions.Verdicts[^1]);
        Assert.Empty(_audit.Drain());
    }

    [Fact]
    public void A_denied_name_drops_everything_held_marks_the_connection_and_is_audited_like_the_proxy_guard()
    {
        var table = Table();
        var key = Key(40001, 443);
        Syn(table, key);
        var hello = TlsBytes.ClientHello("denied.test");
        var a = Send(table, key, Isn + 1, TcpFlags.Ack, hello.AsSpan(..50));
        var b = Send(table, key, Isn + 51, TcpFlags.Ack, hello.AsSpan(50..));

        Assert.Equal([a, b], _actions.Dropped);
        Assert.Equal([(key, QueueGuardMarks.Denied)], _actions.Marks);
        var denial = Assert.Single(_audit.Drain());
        Assert.Equal(new EgressDenial("sb", _time.GetUtcNow(), "denied.test", 443, "tcp", "host_not_allowed"), denial);
        Assert.Equal(1, _statistics.Denied);

        // Retransmits meet the decision.
        var again = Send(table, key, Isn + 1, TcpFlags.Ack, hello);
        Assert.Equal((again, false), _actions.Verdicts[^1]);
    }

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nHost: allowed.test\r\n\r\n", true)]
    [InlineData("GET / HTTP/1.1\r\nHost: denied.test\r\n\r\n", false)]
    [InlineData("SSH-2.0-OpenSSH_9.6\r\n", true)]
    public void Http_hosts_and_other_protocols_follow_the_proxy_guards_rules(string message, bool allowed)
    {
        var table = Table();
        var key = Key(40002, 80);
        Syn(table, key);
        var id = Send(table, key, Isn + 1, TcpFlags.Ack, Encoding.ASCII.GetBytes(message));
        Assert.Equal((id, allowed), _actions.Verdicts[^1]);
        Assert.Equal(allowed ? QueueGuardMarks.Verified : QueueGuardMarks.Denied, Assert.Single(_actions.Marks).Bits);
    }

    [Fact]
    public void A_partial_first_message_is_held_and_refused_when_its_time_runs_out()
    {
        var table = Table();
        var key = Key(40003, 443);
        Syn(table, key);
        var hello = TlsBytes.Records(TlsBytes.Handshake(TlsBytes.ClientHelloBody([(21, new byte[880]), (0, TlsBytes.ServerName("allowed.test"))])));
        var id = Send(table, key, Isn + 1, TcpFlags.Ack, hello.AsSpan(..700));
        Assert.Equal((1, 1, 700L), (table.Flows, table.HeldPackets, table.HeldBytes));
        Assert.DoesNotContain(id, _actions.Verdicts.Select(v => v.Id));

        _time.Advance(TimeSpan.FromSeconds(9));
        table.Sweep(_actions);
        Assert.Equal(1, table.Flows);
        _time.Advance(TimeSpan.FromSeconds(1));
        table.Sweep(_actions);
        Assert.Equal((id, false), _actions.Verdicts[^1]);
        Assert.Equal("192.0.2.10", Assert.Single(_audit.Drain()).Destination);
        Assert.Equal(1, _statistics.RefusedUnreadable);
    }

    [Fact]
    public void Retransmitted_bytes_that_differ_are_refused()
    {
        var table = Table();
        var key = Key(40004, 443);
        Syn(table, key);
        var hello = TlsBytes.ClientHello("allowed.test");
        var a = Send(table, key, Isn + 1 + 10, TcpFlags.Ack, hello.AsSpan(10..60));
        var evil = hello.AsSpan(..60).ToArray();
        evil[30] ^= 0xFF;
        var b = Send(table, key, Isn + 1, TcpFlags.Ack, evil);
        Assert.Equal([a, b], _actions.Dropped.Order());
        Assert.Equal(QueueGuardMarks.Denied, Assert.Single(_actions.Marks).Bits);
        Assert.Equal(1, _statistics.RefusedUnreadable);
    }

    [Fact]
    public void Bytes_before_the_stream_start_or_past_the_bound_are_refused()
    {
        var table = Table();
        var early = Key(40005, 443);
        Syn(table, early);
        Send(table, early, Isn - 10, TcpFlags.Ack, [22, 3, 1]);
        var far = Key(40006, 443);
        Syn(table, far);
        Send(table, far, Isn + 1 + 40_000, TcpFlags.Ack, [1]);
        Assert.Equal(2, _statistics.RefusedUnreadable);
        Assert.Equal(0, table.Flows);
    }

    [Fact]
    public void A_first_message_longer_than_the_guard_reads_is_refused()
    {
        var table = Table(new QueueGuardOptions { MaxFirstMessageBytes = 1024, MaxHeldBytesPerFlow = 1024 });
        var key = Key(40007, 80);
        Syn(table, key);
        var head = Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nX-Long: " + new string('a', 2000));
        Send(table, key, Isn + 1, TcpFlags.Ack, head.AsSpan(..600));
        Send(table, key, Isn + 601, TcpFlags.Ack, head.AsSpan(600..1100));
        Assert.Equal(1, _statistics.RefusedUnreadable);
        Assert.Equal((0, 0L), (table.HeldPackets, table.HeldBytes));
    }

    [Fact]
    public void Flows_per_sandbox_and_held_bytes_in_all_are_bounded()
    {
        var table = Table(new QueueGuardOptions { MaxFlowsPerSandbox = 2, MaxFlows = 2, MaxFirstMessageBytes = 1024, MaxHeldBytesPerFlow = 1024, MaxHeldBytes = 1500 });
        var a = Key(41000, 443);
        var b = Key(41001, 443);
        Syn(table, a);
        Syn(table, b);
        var refused = Syn(table, Key(41002, 443));
        Assert.Equal((refused, false), _actions.Verdicts[^1]);
        Assert.Equal(2, table.Flows);

        var hello = TlsBytes.Records(TlsBytes.Handshake(TlsBytes.ClientHelloBody([(21, new byte[880]), (0, TlsBytes.ServerName("allowed.test"))])));
        Send(table, a, Isn + 1, TcpFlags.Ack, hello.AsSpan(..800));
        var over = Send(table, b, Isn + 1, TcpFlags.Ack, hello.AsSpan(..800));
        Assert.Equal((over, false), _actions.Verdicts[^1]);
        Assert.Equal((1, 800L), (table.Flows, table.HeldBytes));
        Assert.Equal(2, _statistics.RejectedOverLimit);
        Assert.Equal((b, QueueGuardMarks.Denied), Assert.Single(_actions.Marks));
    }

    [Fact]
    public void Held_packets_per_flow_are_bounded()
    {
        var table = Table(new QueueGuardOptions { MaxHeldPacketsPerFlow = 4 });
        var key = Key(40008, 443);
        Syn(table, key);
        var hello = TlsBytes.ClientHello("allowed.test");
        for (var i = 0; i < 5; i++)
        {
            Send(table, key, Isn + 1 + (uint)i, TcpFlags.Ack, hello.AsSpan(i, 1));
        }

        Assert.Equal(1, _statistics.RefusedUnreadable);
        Assert.Equal(0, table.HeldPackets);
    }

    [Fact]
    public void Payload_without_a_seen_handshake_is_dropped_marked_and_audited()
    {
        var table = Table();
        var key = Key(40009, 443);
        var ack = Send(table, key, 5, TcpFlags.Ack, []);
        var data = Send(table, key, 5, TcpFlags.Ack, TlsBytes.ClientHello("allowed.test"));
        Assert.Equal([(ack, true), (data, false)], _actions.Verdicts);
        Assert.Equal((key, QueueGuardMarks.Denied), Assert.Single(_actions.Marks));
        Assert.Single(_audit.Drain());
        Assert.Equal(1, _statistics.UnknownFlow);
    }

    [Fact]
    public void A_handshake_to_an_address_not_learned_or_blocked_is_refused_and_unknown_sources_are_dropped()
    {
        var table = Table();
        var notLearned = new FlowKey(false, FlowKey.FromBytes(Guest.GetAddressBytes()), FlowKey.FromBytes(IPAddress.Parse("192.0.2.99").GetAddressBytes()), 40010, 443);
        Syn(table, notLearned);
        _learned.Add("sb", IPAddress.Parse("169.254.169.254"), 443);
        Syn(table, new FlowKey(false, FlowKey.FromBytes(Guest.GetAddressBytes()), FlowKey.FromBytes(IPAddress.Parse("169.254.169.254").GetAddressBytes()), 40011, 443));
        Syn(table, new FlowKey(false, FlowKey.FromBytes(IPAddress.Parse("10.213.0.6").GetAddressBytes()), FlowKey.FromBytes(Server.GetAddressBytes()), 40012, 443));
        Assert.All(_actions.Verdicts, v => Assert.False(v.Accepted));
        Assert.Equal((2, 1), (_audit.Drain().Count, (int)_statistics.RejectedUnknownSource));
        Assert.Equal(0, table.Flows);
    }

    [Fact]
    public void A_fin_before_any_byte_is_allowed_and_a_fin_inside_the_message_is_refused()
    {
        var table = Table();
        var quiet = Key(40013, 443);
        Syn(table, quiet);
        var fin = Send(table, quiet, Isn + 1, TcpFlags.Fin | TcpFlags.Ack, []);
        Assert.Equal((fin, true), _actions.Verdicts[^1]);
        Assert.Equal(1, _statistics.AllowedUnnamed);

        var cut = Key(40014, 443);
        Syn(table, cut);
        Send(table, cut, Isn + 1, TcpFlags.Fin | TcpFlags.Ack, TlsBytes.ClientHello("allowed.test").AsSpan(..40));
        Assert.Equal(1, _statistics.RefusedUnreadable);
    }

    [Fact]
    public void A_reset_drops_what_was_held_and_a_reused_port_pair_gets_a_decision_of_its_own()
    {
        var table = Table();
        var key = Key(40015, 443);
        Syn(table, key);
        var held = Send(table, key, Isn + 1, TcpFlags.Ack, TlsBytes.ClientHello("allowed.test").AsSpan(..30));
        var rst = Send(table, key, Isn + 31, TcpFlags.Rst, []);
        Assert.Equal([(held, false), (rst, true)], _actions.Verdicts.Skip(1));
        Assert.Equal(0, table.Flows);

        // Allowed, then the guest opens a new connection from the same port: its first message is checked again.
        Syn(table, key);
        Send(table, key, Isn + 1, TcpFlags.Ack, TlsBytes.ClientHello("allowed.test"));
        Syn(table, key, isn: 77);
        var evil = Send(table, key, 78, TcpFlags.Ack, TlsBytes.ClientHello("denied.test"));
        Assert.Equal((evil, false), _actions.Verdicts[^1]);
        Assert.Equal(1, _statistics.Denied);
    }

    [Fact]
    public void Data_on_a_syn_is_dropped_without_tracking()
    {
        var table = Table();
        var key = Key(40016, 443);
        var id = Send(table, key, Isn, TcpFlags.Syn, TlsBytes.ClientHello("allowed.test"));
        Assert.Equal([(id, false)], _actions.Verdicts);
        Assert.Equal(0, table.Flows);
    }

    [Fact]
    public void A_connection_that_cannot_be_marked_is_not_released()
    {
        var table = Table();
        var key = Key(40017, 443);
        Syn(table, key);
        _actions.MarkSucceeds = false;
        var id = Send(table, key, Isn + 1, TcpFlags.Ack, TlsBytes.ClientHello("allowed.test"));
        Assert.Equal((id, false), _actions.Verdicts[^1]);
        Assert.Equal(1, _statistics.MarkFailures);
    }

    [Fact]
    public void A_silent_connection_is_evicted_after_the_idle_timeout_and_decisions_are_forgotten_in_time()
    {
        var table = Table(new QueueGuardOptions { IdleTimeout = TimeSpan.FromMinutes(1), DecidedMemory = TimeSpan.FromSeconds(30) });
        var silent = Key(40018, 443);
        Syn(table, silent);
        var done = Key(40019, 443);
        Syn(table, done);
        Send(table, done, Isn + 1, TcpFlags.Ack, TlsBytes.ClientHello("allowed.test"));
        Assert.Equal(1, table.Decided);
        _time.Advance(TimeSpan.FromSeconds(61));
        table.Sweep(_actions);
        Assert.Equal((0, 1L), (table.Flows, _statistics.Evicted));
        Assert.Equal((silent, QueueGuardMarks.Denied), _actions.Marks[^1]);
        _time.Advance(TimeSpan.FromSeconds(30));
        table.Sweep(_actions);
        Assert.Equal(0, table.Decided);
    }

    private QueueFlowTable Table(QueueGuardOptions? options = null)
    {
        var directory = new OneClientDirectory(new DnsClient("sb", TestNetworkPolicies.Compile("[allowed.test:443, allowed.test:80]"), AllowAll: false), Guest);
        return new QueueFlowTable(options ?? new QueueGuardOptions(), directory, _learned, _audit, _statistics, NullLogger.Instance, _time);
    }

    private static FlowKey Key(ushort sourcePort, ushort port) =>
        new(false, FlowKey.FromBytes(Guest.GetAddressBytes()), FlowKey.FromBytes(Server.GetAddressBytes()), sourcePort, port);

    private uint Syn(QueueFlowTable table, FlowKey key, long isn = Isn) => Send(table, key, isn, TcpFlags.Syn, []);

    private uint Send(QueueFlowTable table, FlowKey key, long sequence, TcpFlags flags, ReadOnlySpan<byte> payload)
    {
        var id = _nextId++;
        table.OnSegment(id, new TcpSegment(key, (uint)(sequence & 0xFFFF_FFFF), flags, payload), _actions);
        return id;
    }
}
