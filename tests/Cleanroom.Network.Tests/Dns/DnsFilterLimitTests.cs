using System.Diagnostics;
using System.Net;
using Cleanroom.Network.Dns.Wire;
using Cleanroom.Network.Tests.Dns.Support;
using Cleanroom.Network.Tests.Dns.Wire;

namespace Cleanroom.Network.Tests.Dns;

/// <summary>What one guest can do to the filter: floods, too many queries in flight, idle or surplus TCP connections.</summary>
public sealed class DnsFilterLimitTests
{
    private static FakeUpstream Answering() => new(q => [FakeUpstream.Answer(q, [FakeUpstream.A(q, "10.5.5.5")])]);

    [Fact]
    public async Task A_flood_of_garbage_does_not_stop_later_queries()
    {
        await using var fake = Answering();
        await using var filter = FilterHarness.Start([fake.Endpoint]);
        using var flooder = new Guest(TestSandboxes.PolicyAddress);
        using var stranger = new Guest(TestSandboxes.UnknownAddress);
        using var guest = new Guest(TestSandboxes.PolicyAddress);
        var random = new Random(77);
        var hostile = new[]
        {
            WireBytes.Concat(WireBytes.Header(), WireBytes.Pointer(12), WireBytes.UInt16(1), WireBytes.UInt16(1)),
            WireBytes.Concat(WireBytes.Header(qd: 2), WireBytes.Question("a.flood.test")),
            WireBytes.Concat(WireBytes.Header(flags: 0x8180), WireBytes.Question("a.flood.test")),
            WireBytes.Concat(WireBytes.Header(ar: 1), WireBytes.Question("a.flood.test"), [0, 0, 41, 0xFF, 0xFF, 0, 0, 0, 0, 0xFF, 0xFF]),
            new byte[5000],
            [],
        };

        const int Flood = 10_000;
        const int Batch = 50;
        for (var i = 0; i < Flood; i++)
        {
            var garbage = i % 3 == 0 ? hostile[i / 3 % hostile.Length] : new byte[random.Next(0, 700)];
            if (i % 3 != 0)
            {
                random.NextBytes(garbage);
            }

            (i % 10 == 0 ? stranger : flooder).Send(garbage, filter.Udp);
            if (i % Batch == Batch - 1)
            {
                // Flow control, so the kernel does not drop the flood before the filter sees it: the answer to a
                // refused query sent after a batch means the loop has read the whole batch.
                var marker = new GuestQuery((ushort)(i / Batch), "x.other.test", GuestQuery.A);
                await flooder.AskAsync(filter.Udp, marker);
            }
        }

        var answer = await guest.AskAsync(filter.Udp, new GuestQuery(0xD001, "after.flood.test", GuestQuery.A));

        Assert.Equal(["10.5.5.5"], answer.Addresses);
        Assert.True(filter.Statistics.Received >= Flood, $"received {filter.Statistics.Received}");
        Assert.Equal(Flood / 10, filter.Statistics.DroppedUnknownSource);
        Assert.Equal(["after.flood.test"], fake.Queries.Select(q => q.Query.Question.Name.ToString()).Distinct());
    }

    [Fact]
    public async Task Queries_beyond_the_in_flight_bound_are_dropped_per_sandbox()
    {
        await using var fake = Answering();
        await using var filter = FilterHarness.Start([fake.Endpoint], o => o with { MaxInFlightPerClient = 2 });
        var gate = new TaskCompletionSource();
        filter.Allowance.Behaviour = (_, ct) => gate.Task.WaitAsync(ct);
        using var guest = new Guest(TestSandboxes.PolicyAddress);
        using var other = new Guest(TestSandboxes.OtherAddress);
        var queries = Enumerable.Range(1, 4).Select(i => new GuestQuery((ushort)(0xE000 + i), $"q{i}.allowed.test", GuestQuery.A)).ToList();

        guest.Send(queries[0].Bytes, filter.Udp);
        guest.Send(queries[1].Bytes, filter.Udp);
        await filter.Allowance.NextAsync();
        await filter.Allowance.NextAsync();
        guest.Send(queries[2].Bytes, filter.Udp);

        // Another sandbox is not held back; its answer also proves the third query was decided (same socket, later).
        var others = await other.AskAsync(filter.Udp, new GuestQuery(0xE100, "x.other.test", GuestQuery.A));
        Assert.Equal(DnsResponseCode.Refused, others.Code);
        Assert.Equal(1, filter.Statistics.DroppedOverLimit);

        gate.SetResult();
        var answered = new[] { await guest.ReceiveAsync(), await guest.ReceiveAsync() }.ToDictionary(m => (m[0] << 8) | m[1]);
        var fourth = await guest.AskAsync(filter.Udp, queries[3]);

        Assert.Equal(["10.5.5.5"], queries[0].Parse(answered[queries[0].Id]).Addresses);
        Assert.Equal(["10.5.5.5"], queries[1].Parse(answered[queries[1].Id]).Addresses);
        Assert.Equal(["10.5.5.5"], fourth.Addresses);
        Assert.DoesNotContain("q3.allowed.test", filter.Allowance.All.Select(c => c.Name));
    }

    [Fact]
    public async Task Oversized_datagrams_are_dropped()
    {
        await using var fake = Answering();
        await using var filter = FilterHarness.Start([fake.Endpoint]);
        using var guest = new Guest(TestSandboxes.PolicyAddress);
        var padded = WireBytes.Concat(new GuestQuery(0xF001, "a.allowed.test", GuestQuery.A).Bytes, new byte[5000]);

        guest.Send(padded, filter.Udp);
        var next = await guest.AskAsync(filter.Udp, new GuestQuery(0xF002, "b.allowed.test", GuestQuery.A));

        Assert.Equal(DnsResponseCode.NoError, next.Code);
        Assert.Equal(0, guest.Pending);
        Assert.Equal(1, filter.Statistics.DroppedMalformed);
    }

    [Fact]
    public async Task Tcp_connections_beyond_the_bound_are_closed_and_idle_ones_time_out()
    {
        await using var fake = Answering();
        var idle = TimeSpan.FromSeconds(2);
        await using var filter = FilterHarness.Start([fake.Endpoint], o => o with { MaxTcpConnectionsPerClient = 2, TcpIdleTimeout = idle });
        using var guest = new Guest(TestSandboxes.PolicyAddress);
        var query = new GuestQuery(0xF101, "a.allowed.test", GuestQuery.A);

        using var first = await guest.ConnectAsync(filter.Tcp);
        using var second = await guest.ConnectAsync(filter.Tcp);
        Assert.NotNull(await Guest.ExchangeTcpAsync(first, query.Bytes));
        Assert.NotNull(await Guest.ExchangeTcpAsync(second, query.Bytes));
        using var third = await guest.ConnectAsync(filter.Tcp);
        var refused = await Guest.ExchangeTcpAsync(third, query.Bytes);

        var clock = Stopwatch.StartNew();
        var closedWhenIdle = await Guest.ReadTcpAsync(first, TimeSpan.FromSeconds(10));

        Assert.Null(refused);
        Assert.Null(closedWhenIdle);
        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(8));
        Assert.Equal(1, filter.Statistics.RejectedConnections);
    }

    [Fact]
    public async Task A_tcp_connection_is_closed_after_its_query_quota_and_on_an_oversized_length()
    {
        await using var fake = Answering();
        await using var filter = FilterHarness.Start([fake.Endpoint], o => o with { MaxQueriesPerTcpConnection = 2 });
        using var guest = new Guest(TestSandboxes.PolicyAddress);
        var query = new GuestQuery(0xF201, "a.allowed.test", GuestQuery.A);

        using var quota = await guest.ConnectAsync(filter.Tcp);
        var answers = new[]
        {
            await Guest.ExchangeTcpAsync(quota, query.Bytes),
            await Guest.ExchangeTcpAsync(quota, query.Bytes),
            await Guest.ExchangeTcpAsync(quota, query.Bytes),
        };
        using var oversized = await guest.ConnectAsync(filter.Tcp);
        await oversized.SendAsync(new byte[] { 0xFF, 0xFF, 0, 0, 0 }, System.Net.Sockets.SocketFlags.None);

        Assert.Equal([true, true, false], answers.Select(a => a is not null));
        Assert.Null(await Guest.ReadTcpAsync(oversized));
    }

    [Fact]
    public async Task Stopping_ends_every_loop_even_with_queries_waiting_on_the_firewall()
    {
        await using var fake = Answering();
        var filter = FilterHarness.Start([fake.Endpoint]);
        filter.Allowance.Behaviour = (_, ct) => Task.Delay(Timeout.Infinite, ct);
        using var guest = new Guest(TestSandboxes.PolicyAddress);
        using var idleConnection = await guest.ConnectAsync(filter.Tcp);
        guest.Send(new GuestQuery(0xF301, "a.allowed.test", GuestQuery.A).Bytes, filter.Udp);
        await filter.Allowance.NextAsync();

        var clock = Stopwatch.StartNew();
        await filter.Filter.StopAsync().WaitAsync(TimeSpan.FromSeconds(10));

        // Well before StopTimeout (10 s): the blocked query was cancelled, not waited out.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
        Assert.Null(await Guest.ReadTcpAsync(idleConnection));
        Assert.Equal(0, guest.Pending);
        await filter.DisposeAsync();
    }
}
