using System.Net;
using Cleanroom.GuestAgent.Init;

namespace Cleanroom.GuestAgent.Tests;

/// <summary>
/// The agent's network configuration against the real kernel: each test makes a network namespace with a veth card,
/// runs <see cref="GuestNetwork.ConfigureCard"/> on a thread inside it, checks the result with ip(8) and removes the
/// namespace, pass or fail. The resolver goes to a temporary file, not the test machine's /etc/resolv.conf.
/// </summary>
public sealed class GuestNetworkNamespaceTests : IDisposable
{
    private static readonly NetworkSettings Ipv4 = NetworkSettings.Parse("10.213.0.6/30,10.213.0.5,10.213.0.5")!;
    private static readonly Ipv6Settings Ipv6 = Ipv6Settings.Parse("fd63:6c65:616e::2/126,fd63:6c65:616e::1")!;

    private readonly TestNetworkNamespace _ns = TestNetworkNamespace.Create();
    private readonly string _resolvConf = Path.Combine(Path.GetTempPath(), $"cr-g6-resolv-{Guid.NewGuid():N}");

    [Fact]
    public void Both_families_are_configured()
    {
        _ns.Run(() => GuestNetwork.ConfigureCard(TestNetworkNamespace.Card, Ipv4, Ipv6, _resolvConf));

        Assert.Contains("state UP", _ns.Ip("link", "show", "dev", TestNetworkNamespace.Card), StringComparison.Ordinal);
        Assert.Contains("inet 10.213.0.6/30", _ns.Ip("-4", "addr", "show", "dev", TestNetworkNamespace.Card), StringComparison.Ordinal);
        Assert.StartsWith("default via 10.213.0.5 dev eth0", _ns.Ip("-4", "route", "show", "default"), StringComparison.Ordinal);
        Assert.Contains("nameserver 10.213.0.5\n", File.ReadAllText(_resolvConf), StringComparison.Ordinal);
        AssertIpv6Configured();
    }

    [Fact]
    public void Ipv6_works_without_ipv4()
    {
        _ns.Run(() => GuestNetwork.ConfigureCard(TestNetworkNamespace.Card, null, Ipv6, _resolvConf));

        AssertIpv6Configured();
        Assert.DoesNotContain("inet ", _ns.Ip("-4", "addr", "show", "dev", TestNetworkNamespace.Card), StringComparison.Ordinal);
        Assert.False(File.Exists(_resolvConf));
    }

    [Fact]
    public void Without_ipv6_settings_the_card_has_ipv6_off()
    {
        _ns.Run(() => GuestNetwork.ConfigureCard(TestNetworkNamespace.Card, Ipv4, null, _resolvConf));

        Assert.Equal("1", _ns.Sysctl("disable_ipv6"));
        // Not even a link-local address: an application sees at once that there is no IPv6.
        Assert.Equal("", _ns.Ip("-6", "addr", "show", "dev", TestNetworkNamespace.Card).Trim());
        Assert.Equal("", _ns.Ip("-6", "route", "show", "default").Trim());
        Assert.StartsWith("default via 10.213.0.5 dev eth0", _ns.Ip("-4", "route", "show", "default"), StringComparison.Ordinal);
    }

    [Fact]
    public void Failures_are_logged_not_thrown()
    {
        // Configuring twice: the second address and routes already exist (EEXIST), which the agent only logs.
        _ns.Run(() => GuestNetwork.ConfigureCard(TestNetworkNamespace.Card, Ipv4, Ipv6, _resolvConf));
        _ns.Run(() => GuestNetwork.ConfigureCard(TestNetworkNamespace.Card, Ipv4, Ipv6, _resolvConf));
        AssertIpv6Configured();

        // A card that does not exist: no sysctl files, no interface index; still nothing thrown.
        var other = new Ipv6Settings(IPAddress.Parse("fd00::2"), 64, IPAddress.Parse("fd00::1"));
        _ns.Run(() => GuestNetwork.ConfigureCard("nosuch0", null, other, _resolvConf));
        _ns.Run(() => GuestNetwork.ConfigureCard("nosuch0", Ipv4, null, _resolvConf));
    }

    [Fact]
    public void The_card_is_the_first_interface_by_name_that_is_not_loopback()
    {
        // lo, eth0 and its veth peer peer0 (which the kernel indexes first): the agent picks eth0, first by name.
        string? found = null;
        _ns.Run(() => found = GuestNetwork.LookUpCard());
        Assert.Equal(TestNetworkNamespace.Card, found);

        _ns.Ip("link", "del", TestNetworkNamespace.Card); // takes its peer with it: loopback is all that is left
        _ns.Run(() => found = GuestNetwork.LookUpCard());
        Assert.Null(found);
    }

    public void Dispose()
    {
        _ns.Dispose();
        File.Delete(_resolvConf);
    }

    private void AssertIpv6Configured()
    {
        Assert.Equal("0", _ns.Sysctl("disable_ipv6"));
        Assert.Equal("0", _ns.Sysctl("accept_ra"));
        Assert.Equal("0", _ns.Sysctl("autoconf"));
        Assert.Equal("0", _ns.Sysctl("accept_dad"));
        var addresses = _ns.Ip("-6", "addr", "show", "dev", TestNetworkNamespace.Card);
        Assert.Contains("inet6 fd63:6c65:616e::2/126 scope global", addresses, StringComparison.Ordinal);
        Assert.DoesNotContain("tentative", addresses, StringComparison.Ordinal);
        Assert.Equal("default via fd63:6c65:616e::1 dev eth0 metric 1 pref medium", _ns.Ip("-6", "route", "show", "default").Trim());
    }
}
