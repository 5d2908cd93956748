using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Cleanroom.Network.Dns.Wire;
using Cleanroom.Network.Tests.Dns.Support;

namespace Cleanroom.Network.Tests.Dns;

/// <summary>
/// How the filter talks to upstreams: its own fresh queries, TCP after truncation, spoofed answers ignored, and
/// SERVFAIL in bounded time when upstreams or the firewall fail. Scripted upstreams, because these are the cases a
/// healthy resolver does not produce on demand.
/// </summary>
public sealed class DnsFilterUpstreamTests
{
    [Fact]
    public async Task Upstream_queries_are_built_afresh_from_a_new_port_each_time()
    {
        await using var fake = new FakeUpstream(q => [FakeUpstream.Answer(q, [FakeUpstream.A(q, "10.5.5.5")])]);
        await using var filter = FilterHarness.Start([fake.Endpoint]);
        using var guest = new Guest(TestSandboxes.PolicyAddress);
        var first = new GuestQuery(0x0101, "One.Allowed.Test", GuestQuery.A);

        await guest.AskAsync(filter.Udp, first);
        await guest.AskAsync(filter.Udp, new GuestQuery(0x0102, "two.allowed.test", GuestQuery.A));

        var sent = fake.Queries.ToList();
        Assert.Equal(2, sent.Count);
        Assert.NotEqual(first.Bytes, sent[0].Bytes);
        Assert.Equal("one.allowed.test", sent[0].Query.Question.Name.ToString());
        Assert.True(sent[0].Query.RecursionDesired);
        Assert.NotNull(sent[0].Query.EdnsUdpSize);
        Assert.NotEqual(sent[0].Source.Port, sent[1].Source.Port);
    }

    [Fact]
    public async Task A_truncated_answer_is_fetched_again_over_tcp()
    {
        await using var fake = new FakeUpstream(
            udpScript: q => [FakeUpstream.Answer(q, [], truncated: true)],
            tcpScript: q => [FakeUpstream.Answer(q, [FakeUpstream.A(q, "10.6.6.6"), FakeUpstream.A(q, "10.6.6.7")])]);
        await using var filter = FilterHarness.Start([fake.Endpoint]);
        using var guest = new Guest(TestSandboxes.PolicyAddress);

        var answer = await guest.AskAsync(filter.Udp, new GuestQuery(0x0201, "big.allowed.test", GuestQuery.A));

        Assert.Equal(["10.6.6.6", "10.6.6.7"], answer.Addresses);
        Assert.Equal([false, true], fake.Queries.Select(q => q.OverTcp));
        Assert.Equal(["10.6.6.6", "10.6.6.7"], (await filter.Allowance.NextAsync()).Addresses.Select(a => a.Address.ToString()));
    }

    [Fact]
    public async Task Answers_with_the_wrong_id_are_ignored()
    {
        await using var fake = new FakeUpstream(q =>
        [
            FakeUpstream.Answer(q, [FakeUpstream.A(q, "6.6.6.6")], id: (ushort)(q.Id + 1)),
            FakeUpstream.Answer(q, [FakeUpstream.A(q, "10.5.5.5")]),
        ]);
        await using var filter = FilterHarness.Start([fake.Endpoint]);
        using var guest = new Guest(TestSandboxes.PolicyAddress);

        var answer = await guest.AskAsync(filter.Udp, new GuestQuery(0x0301, "x.allowed.test", GuestQuery.A));

        Assert.Equal(["10.5.5.5"], answer.Addresses);
    }

    [Fact]
    public async Task A_closed_upstream_gives_servfail_at_once()
    {
        var closed = ClosedUdpPort();
        await using var filter = FilterHarness.Start([closed], o => o with { UpstreamTimeout = TimeSpan.FromSeconds(10), QueryTimeout = TimeSpan.FromSeconds(20) });
        using var guest = new Guest(TestSandboxes.PolicyAddress);
        var clock = Stopwatch.StartNew();

        var answer = await guest.AskAsync(filter.Udp, new GuestQuery(0x0401, "x.allowed.test", GuestQuery.A));

        Assert.Equal(DnsResponseCode.ServerFailure, answer.Code);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
        Assert.Empty(filter.Allowance.All);
    }

    [Fact]
    public async Task A_silent_upstream_gives_servfail_after_the_timeout_and_the_next_one_is_tried()
    {
        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        silent.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        await using var fake = new FakeUpstream(q => [FakeUpstream.Answer(q, [FakeUpstream.A(q, "10.5.5.5")])]);
        var timeout = TimeSpan.FromMilliseconds(300);
        await using var onlySilent = FilterHarness.Start([(IPEndPoint)silent.LocalEndPoint!], o => o with { UpstreamTimeout = timeout });
        await using var withFallback = FilterHarness.Start(
            [(IPEndPoint)silent.LocalEndPoint!, fake.Endpoint], o => o with { UpstreamTimeout = TimeSpan.FromSeconds(1) });
        using var guest = new Guest(TestSandboxes.PolicyAddress);

        var clock = Stopwatch.StartNew();
        var failed = await guest.AskAsync(onlySilent.Udp, new GuestQuery(0x0501, "x.allowed.test", GuestQuery.A));
        var failedAfter = clock.Elapsed;
        var fellBack = await guest.AskAsync(withFallback.Udp, new GuestQuery(0x0502, "x.allowed.test", GuestQuery.A));

        Assert.Equal(DnsResponseCode.ServerFailure, failed.Code);
        // It waited out the timeout (less a little: .NET timers and Stopwatch are different clocks, and a timer has
        // been seen to fire 0.02 ms "early"), not an instant refusal.
        Assert.InRange(failedAfter, timeout - TimeSpan.FromMilliseconds(20), TimeSpan.FromSeconds(5));
        Assert.Equal(["10.5.5.5"], fellBack.Addresses);
        Assert.Equal(1, onlySilent.Statistics.UpstreamFailures);
    }

    [Fact]
    public async Task If_the_firewall_cannot_be_opened_the_guest_gets_servfail_and_no_addresses()
    {
        await using var fake = new FakeUpstream(q => [FakeUpstream.Answer(q, [FakeUpstream.A(q, "10.5.5.5")])]);
        await using var throwing = FilterHarness.Start([fake.Endpoint]);
        await using var hanging = FilterHarness.Start([fake.Endpoint], o => o with { AllowanceTimeout = TimeSpan.FromMilliseconds(300) });
        throwing.Allowance.Behaviour = (_, _) => throw new InvalidOperationException("nft failed");
        hanging.Allowance.Behaviour = (_, _) => new TaskCompletionSource().Task;
        using var guest = new Guest(TestSandboxes.PolicyAddress);

        var thrown = await guest.AskAsync(throwing.Udp, new GuestQuery(0x0601, "x.allowed.test", GuestQuery.A));
        var clock = Stopwatch.StartNew();
        var hung = await guest.AskAsync(hanging.Udp, new GuestQuery(0x0602, "x.allowed.test", GuestQuery.A));

        Assert.Equal((DnsResponseCode.ServerFailure, 0), (thrown.Code, thrown.Records.Count));
        Assert.Equal((DnsResponseCode.ServerFailure, 0), (hung.Code, hung.Records.Count));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task Nxdomain_from_upstream_reaches_the_guest_without_opening_anything()
    {
        await using var fake = new FakeUpstream(q =>
        {
            var answer = FakeUpstream.Answer(q, []);
            answer[3] = (byte)((answer[3] & 0xF0) | (byte)DnsResponseCode.NameError);
            return [answer];
        });
        await using var filter = FilterHarness.Start([fake.Endpoint]);
        using var guest = new Guest(TestSandboxes.PolicyAddress);

        var answer = await guest.AskAsync(filter.Udp, new GuestQuery(0x0701, "missing.allowed.test", GuestQuery.A));

        Assert.Equal(DnsResponseCode.NameError, answer.Code);
        Assert.Empty(filter.Allowance.All);
    }

    private static IPEndPoint ClosedUdpPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return (IPEndPoint)socket.LocalEndPoint!;
    }
}
