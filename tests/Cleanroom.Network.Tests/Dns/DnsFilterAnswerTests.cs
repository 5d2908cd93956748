using System.Net;
using Cleanroom.Network.Dns;
using Cleanroom.Network.Dns.Wire;
using Cleanroom.Network.Tests.Dns.Support;
using Cleanroom.Network.Tests.Dns.Wire;

namespace Cleanroom.Network.Tests.Dns;

/// <summary>
/// What guests are told, through a real filter on loopback and a real dnsmasq upstream whose query log shows which
/// names left the host.
/// </summary>
public sealed class DnsFilterAnswerTests(DnsmasqUpstream upstream) : IClassFixture<DnsmasqUpstream>, IAsyncLifetime
{
    private FilterHarness _filter = null!;

    public Task InitializeAsync()
    {
        _filter = FilterHarness.Start([upstream.Endpoint]);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _filter.DisposeAsync();

    private static string Unique(string suffix) => "q" + Guid.NewGuid().ToString("N")[..12] + "." + suffix;

    [Fact]
    public async Task An_allowed_A_query_is_answered_only_after_the_firewall_is_open()
    {
        var opened = new TaskCompletionSource();
        _filter.Allowance.Behaviour = (_, ct) => opened.Task.WaitAsync(ct);
        using var guest = new Guest(TestSandboxes.PolicyAddress);
        var query = new GuestQuery(0x1111, "Api.Allowed.Test", GuestQuery.A);

        guest.Send(query.Bytes, _filter.Udp);
        var call = await _filter.Allowance.NextAsync();

        var expected = new AllowanceCall("sb-policy", "api.allowed.test", [new ResolvedAddress(IPAddress.Parse("10.1.2.3"), TimeSpan.FromSeconds(300))]);
        Assert.Equal(expected, call, AllowanceCallComparer.Instance);

        // Proving an absence takes a bounded wait: while the firewall stays closed, no answer may arrive.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => guest.ReceiveAsync(query.Id, TimeSpan.FromMilliseconds(300)));

        opened.SetResult();
        var answer = query.Parse(await guest.ReceiveAsync(query.Id));

        Assert.Equal(DnsResponseCode.NoError, answer.Code);
        Assert.True(answer.Header.RecursionDesired);
        Assert.Equal(DnsHeader.RecursionAvailableFlag, answer.Header.Flags & DnsHeader.RecursionAvailableFlag);
        Assert.Equal(0, answer.Header.AuthorityCount + answer.Header.AdditionalCount);
        var record = Assert.Single(answer.Records);
        Assert.Equal(["10.1.2.3"], answer.Addresses);
        Assert.Equal(300u, record.Ttl);
    }

    [Fact]
    public async Task An_allowed_AAAA_query_opens_the_firewall_for_the_v6_address()
    {
        using var guest = new Guest(TestSandboxes.PolicyAddress);

        var answer = await guest.AskAsync(_filter.Udp, new GuestQuery(0x2222, "allowed.test", GuestQuery.Aaaa));
        var call = await _filter.Allowance.NextAsync();

        Assert.Equal(["fd00::123"], answer.Addresses);
        Assert.Equal("allowed.test", call.Name);
        Assert.Equal([new ResolvedAddress(IPAddress.Parse("fd00::123"), TimeSpan.FromSeconds(300))], call.Addresses);
    }

    [Fact]
    public async Task A_cname_chain_is_answered_and_the_firewall_opened_for_the_name_asked()
    {
        using var guest = new Guest(TestSandboxes.PolicyAddress);

        var answer = await guest.AskAsync(_filter.Udp, new GuestQuery(0x3333, "www.cnamed.test", GuestQuery.A));
        var call = await _filter.Allowance.NextAsync();

        Assert.Equal(
            ["www.cnamed.test CNAME edge.cdn.test", "edge.cdn.test A 10.7.7.7"],
            answer.Records.Select(r => r.Type == DnsRecordType.Cname ? $"{r.Owner} CNAME {r.Target}" : $"{r.Owner} A {new IPAddress(r.Fixed)}"));
        Assert.All(answer.Records, r => Assert.Equal(300u, r.Ttl));
        Assert.Equal("www.cnamed.test", call.Name);
        Assert.Equal([IPAddress.Parse("10.7.7.7")], call.Addresses.Select(a => a.Address));
    }

    [Fact]
    public async Task A_denied_name_is_refused_audited_and_never_sent_upstream()
    {
        using var guest = new Guest(TestSandboxes.PolicyAddress);
        var denied = Unique("other.test");
        var marker = Unique("allowed.test");

        var refused = await guest.AskAsync(_filter.Udp, new GuestQuery(0x4444, denied, GuestQuery.A));
        await guest.AskAsync(_filter.Udp, new GuestQuery(0x4445, marker, GuestQuery.A));
        await upstream.WaitForLogAsync(marker);

        Assert.Equal(DnsResponseCode.Refused, refused.Code);
        Assert.Empty(refused.Records);
        var denial = Assert.Single(_filter.Audit.Denials);
        Assert.Equal(("sb-policy", denied, 53, "dns", "host_not_allowed"), (denial.SandboxId, denial.Destination, denial.Port, denial.Protocol, denial.Reason));
        Assert.DoesNotContain(denied, upstream.Log, StringComparison.Ordinal);
        Assert.DoesNotContain(_filter.Allowance.All, c => c.Name == denied);
    }

    [Theory]
    [InlineData("x.wild.test", true)]
    [InlineData("a.b.wild.test", true)]
    [InlineData("wild.test", false)]
    [InlineData("secret.wild.test", false)]
    [InlineData("deeper.secret.wild.test", true)]
    [InlineData("wild.test.evil.test", false)]
    public async Task Wildcards_apexes_and_deny_rules_follow_the_compiled_policy(string name, bool allowed)
    {
        var expected = allowed ? DnsResponseCode.NoError : DnsResponseCode.Refused;
        using var guest = new Guest(TestSandboxes.PolicyAddress);

        var answer = await guest.AskAsync(_filter.Udp, new GuestQuery(0x5555, name, GuestQuery.A));

        Assert.Equal(expected, answer.Code);
        Assert.Equal(expected == DnsResponseCode.NoError ? ["10.4.4.4"] : [], answer.Addresses);
    }

    [Fact]
    public async Task Hostile_names_are_refused_and_audited_escaped()
    {
        using var guest = new Guest(TestSandboxes.PolicyAddress);
        var name = WireBytes.Concat([5, (byte)'a', 0x1b, (byte)'[', (byte)'2', (byte)'J', 1, (byte)'\n'], WireBytes.Name("allowed.test"));
        var query = WireBytes.Concat(WireBytes.Header(id: 0x5656), name, WireBytes.UInt16(1), WireBytes.UInt16(1));

        guest.Send(query, _filter.Udp);
        var answer = await guest.ReceiveAsync(0x5656);

        Assert.Equal((byte)DnsResponseCode.Refused, answer[3] & 0xF);
        Assert.Equal(@"a\\027[2J.\\010.allowed.test", Assert.Single(_filter.Audit.Denials).Destination);
    }

    [Fact]
    public async Task Other_types_of_an_allowed_name_get_an_empty_answer_without_asking_upstream()
    {
        using var guest = new Guest(TestSandboxes.PolicyAddress);
        var name = Unique("allowed.test");
        var marker = Unique("allowed.test");

        var mx = await guest.AskAsync(_filter.Udp, new GuestQuery(0x6666, name, GuestQuery.Mx));
        var txt = await guest.AskAsync(_filter.Udp, new GuestQuery(0x6667, name, GuestQuery.Txt));
        await guest.AskAsync(_filter.Udp, new GuestQuery(0x6668, marker, GuestQuery.A));
        await upstream.WaitForLogAsync(marker);

        Assert.Equal((DnsResponseCode.NoError, 0), (mx.Code, mx.Records.Count));
        Assert.Equal((DnsResponseCode.NoError, 0), (txt.Code, txt.Records.Count));
        Assert.DoesNotContain(name, upstream.Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_sandbox_without_ipv6_gets_no_AAAA_addresses_and_upstream_is_not_asked()
    {
        using var guest = new Guest(TestSandboxes.Ipv4OnlyAddress);
        var name = Unique("allowed.test");
        var marker = Unique("allowed.test");

        var aaaa = await guest.AskAsync(_filter.Udp, new GuestQuery(0x6800, name, GuestQuery.Aaaa));
        var a = await guest.AskAsync(_filter.Udp, new GuestQuery(0x6801, marker, GuestQuery.A));
        await upstream.WaitForLogAsync(marker);

        Assert.Equal((DnsResponseCode.NoError, 0), (aaaa.Code, aaaa.Records.Count));
        Assert.Equal(["10.1.2.3"], a.Addresses);
        Assert.DoesNotContain(name, upstream.Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Meta_types_are_not_implemented_for_anyone()
    {
        using var guest = new Guest(TestSandboxes.OpenAddress);
        var name = Unique("allowed.test");
        var marker = Unique("allowed.test");

        var any = await guest.AskAsync(_filter.Udp, new GuestQuery(0x6701, name, 255));
        var axfr = await guest.AskAsync(_filter.Udp, new GuestQuery(0x6702, name, 252));
        await guest.AskAsync(_filter.Udp, new GuestQuery(0x6703, marker, GuestQuery.A));
        await upstream.WaitForLogAsync(marker);

        Assert.Equal([DnsResponseCode.NotImplemented, DnsResponseCode.NotImplemented], new[] { any.Code, axfr.Code });
        Assert.DoesNotContain(name, upstream.Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reverse_lookups_are_names_like_any_other()
    {
        using var guest = new Guest(TestSandboxes.PolicyAddress);

        var answer = await guest.AskAsync(_filter.Udp, new GuestQuery(0x7777, "3.2.1.10.in-addr.arpa", GuestQuery.Ptr));

        Assert.Equal(DnsResponseCode.Refused, answer.Code);
        Assert.Equal("3.2.1.10.in-addr.arpa", Assert.Single(_filter.Audit.Denials).Destination);
    }

    [Fact]
    public async Task Allow_all_sandboxes_resolve_any_name_and_get_other_types_rebuilt()
    {
        using var guest = new Guest(TestSandboxes.OpenAddress);

        var a = await guest.AskAsync(_filter.Udp, new GuestQuery(0x8888, "host.other.test", GuestQuery.A));
        var txt = await guest.AskAsync(_filter.Udp, new GuestQuery(0x8889, "txt.other.test", GuestQuery.Txt));

        Assert.Equal(["10.9.9.9"], a.Addresses);
        Assert.Equal("host.other.test", (await _filter.Allowance.NextAsync()).Name);
        var record = Assert.Single(txt.Records);
        Assert.Equal("\u0005hello\u0005world", System.Text.Encoding.ASCII.GetString(record.Fixed));
        Assert.Empty(_filter.Audit.Denials);
    }

    [Fact]
    public async Task An_answer_too_big_for_udp_is_truncated_and_comes_whole_over_tcp()
    {
        using var guest = new Guest(TestSandboxes.OpenAddress);
        var query = new GuestQuery(0x9999, "big.other.test", GuestQuery.Txt);

        var overUdp = await guest.AskAsync(_filter.Udp, query);
        var overTcp = await guest.AskTcpAsync(_filter.Tcp, query);

        Assert.True(overUdp.Header.IsTruncated);
        Assert.Empty(overUdp.Records);
        Assert.False(overTcp.Header.IsTruncated);
        Assert.Equal(3 * 251, Assert.Single(overTcp.Records).Fixed.Length);
    }

    [Fact]
    public async Task A_guest_that_sends_edns_gets_an_opt_record_and_a_bigger_udp_answer()
    {
        using var guest = new Guest(TestSandboxes.OpenAddress);

        var answer = await guest.AskAsync(_filter.Udp, new GuestQuery(0x9998, "big.other.test", GuestQuery.Txt, Edns: true));

        Assert.False(answer.Header.IsTruncated);
        Assert.Equal(1, answer.Header.AdditionalCount);
        Assert.Single(answer.Records);
    }

    [Fact]
    public async Task Tcp_connections_serve_several_queries()
    {
        using var guest = new Guest(TestSandboxes.PolicyAddress);
        using var connection = await guest.ConnectAsync(_filter.Tcp);
        var first = new GuestQuery(0xA001, "one.allowed.test", GuestQuery.A);
        var second = new GuestQuery(0xA002, "two.other.test", GuestQuery.A);

        var one = first.Parse((await Guest.ExchangeTcpAsync(connection, first.Bytes))!);
        var two = second.Parse((await Guest.ExchangeTcpAsync(connection, second.Bytes))!);

        Assert.Equal(["10.1.2.3"], one.Addresses);
        Assert.Equal(DnsResponseCode.Refused, two.Code);
    }

    [Fact]
    public async Task Malformed_queries_get_format_errors_and_responses_are_ignored()
    {
        using var guest = new Guest(TestSandboxes.PolicyAddress);
        var twoQuestions = WireBytes.Concat(WireBytes.Header(id: 0xB001, qd: 2), WireBytes.Question("a.allowed.test"), WireBytes.Question("b.allowed.test"));
        var response = WireBytes.Concat(WireBytes.Header(id: 0xB002, flags: 0x8180), WireBytes.Question("a.allowed.test"));
        var valid = new GuestQuery(0xB003, "c.allowed.test", GuestQuery.A);

        guest.Send(twoQuestions, _filter.Udp);
        var formErr = await guest.ReceiveAsync(0xB001);
        guest.Send(response, _filter.Udp);
        var next = await guest.AskAsync(_filter.Udp, valid);

        Assert.True(DnsHeader.TryRead(formErr, out var header));
        Assert.Equal((DnsResponseCode.FormatError, 0), (header.ResponseCode, (int)header.QuestionCount));
        Assert.Equal(DnsResponseCode.NoError, next.Code);
        Assert.Equal(0, guest.Pending);
        Assert.Equal(1, _filter.Statistics.DroppedMalformed);
    }

    [Fact]
    public async Task Unknown_sources_get_nothing()
    {
        using var stranger = new Guest(TestSandboxes.UnknownAddress);
        using var guest = new Guest(TestSandboxes.PolicyAddress);

        stranger.Send(new GuestQuery(0xC001, "allowed.test", GuestQuery.A).Bytes, _filter.Udp);
        await guest.AskAsync(_filter.Udp, new GuestQuery(0xC002, "allowed.test", GuestQuery.A));
        using var strangerTcp = await stranger.ConnectAsync(_filter.Tcp);
        var tcpAnswer = await Guest.ExchangeTcpAsync(strangerTcp, new GuestQuery(0xC003, "allowed.test", GuestQuery.A).Bytes);

        // The guest's datagram was sent after the stranger's and read by the same loop, so the stranger's is decided.
        Assert.Equal(0, stranger.Pending);
        Assert.Equal(1, _filter.Statistics.DroppedUnknownSource);
        Assert.Null(tcpAnswer);
        Assert.Equal(["sb-policy"], _filter.Allowance.All.Select(c => c.SandboxId));
    }
}
