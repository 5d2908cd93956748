using Cleanroom.Network.Dns.Wire;
using Cleanroom.Network.Tests.Dns.Support;

namespace Cleanroom.Network.Tests.Dns;

/// <summary>
/// The gateway's name, answered by the filter itself with the asking sandbox's host-side link address, whatever the
/// policy; checked against a real dnsmasq upstream whose query log shows the name never leaves the host.
/// </summary>
public sealed class DnsFilterGatewayTests(DnsmasqUpstream upstream) : IClassFixture<DnsmasqUpstream>, IAsyncLifetime
{
    private const string GatewayName = "gateway.cleanroom.internal";

    private FilterHarness _filter = null!;

    public Task InitializeAsync()
    {
        _filter = FilterHarness.Start([upstream.Endpoint], o => o with { GatewayName = GatewayName });
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _filter.DisposeAsync();

    private static string Unique(string suffix) => "q" + Guid.NewGuid().ToString("N")[..12] + "." + suffix;

    [Fact]
    public async Task The_gateway_name_resolves_to_the_sandboxs_link_whatever_the_policy_and_never_goes_upstream()
    {
        using var guest = new Guest(TestSandboxes.PolicyAddress);
        var marker = Unique("allowed.test");

        var a = await guest.AskAsync(_filter.Udp, new GuestQuery(0x1001, "Gateway.Cleanroom.Internal", GuestQuery.A));
        var aaaa = await guest.AskTcpAsync(_filter.Tcp, new GuestQuery(0x1002, GatewayName, GuestQuery.Aaaa));
        var txt = await guest.AskAsync(_filter.Udp, new GuestQuery(0x1003, GatewayName, GuestQuery.Txt));
        await guest.AskAsync(_filter.Udp, new GuestQuery(0x1004, marker, GuestQuery.A));
        await upstream.WaitForLogAsync(marker);

        Assert.Equal(DnsResponseCode.NoError, a.Code);
        Assert.Equal([TestSandboxes.GatewayAddress.ToString()], a.Addresses);
        var record = Assert.Single(a.Records);
        Assert.Equal(60u, record.Ttl);
        Assert.Equal("Gateway.Cleanroom.Internal", record.Owner.ToString()); // the name as asked
        Assert.Equal([TestSandboxes.GatewayAddress6.ToString()], aaaa.Addresses);
        Assert.Equal(DnsResponseCode.NoError, txt.Code);
        Assert.Empty(txt.Records);

        Assert.Empty(_filter.Audit.Denials);
        Assert.DoesNotContain("cleanroom.internal", upstream.Log, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(_filter.Allowance.All, c => c.Name.Contains("cleanroom.internal", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Without_IPv6_or_without_a_link_address_the_answer_is_empty()
    {
        using var v4 = new Guest(TestSandboxes.Ipv4OnlyAddress);
        using var other = new Guest(TestSandboxes.OtherAddress);

        var a = await v4.AskAsync(_filter.Udp, new GuestQuery(0x2001, GatewayName, GuestQuery.A));
        var aaaa = await v4.AskAsync(_filter.Udp, new GuestQuery(0x2002, GatewayName, GuestQuery.Aaaa));
        var none = await other.AskAsync(_filter.Udp, new GuestQuery(0x2003, GatewayName, GuestQuery.A));

        Assert.Equal([TestSandboxes.GatewayAddress.ToString()], a.Addresses);
        Assert.Equal(DnsResponseCode.NoError, aaaa.Code);
        Assert.Empty(aaaa.Records);
        Assert.Equal(DnsResponseCode.NoError, none.Code);
        Assert.Empty(none.Records);
        Assert.Empty(_filter.Audit.Denials);
    }

    [Fact]
    public async Task Names_below_the_gateway_name_and_the_name_without_a_gateway_follow_the_policy()
    {
        using var guest = new Guest(TestSandboxes.PolicyAddress);
        var below = "x." + GatewayName;

        var refused = await guest.AskAsync(_filter.Udp, new GuestQuery(0x3001, below, GuestQuery.A));
        await using var plain = FilterHarness.Start([upstream.Endpoint]);
        var off = await guest.AskAsync(plain.Udp, new GuestQuery(0x3002, GatewayName, GuestQuery.A));

        Assert.Equal(DnsResponseCode.Refused, refused.Code);
        Assert.Equal(below, Assert.Single(_filter.Audit.Denials).Destination);
        Assert.Equal(DnsResponseCode.Refused, off.Code);
        Assert.Equal(GatewayName, Assert.Single(plain.Audit.Denials).Destination);
    }
}
