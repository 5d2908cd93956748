using System.Net;
using Cleanroom.GuestAgent.Init;

namespace Cleanroom.GuestAgent.Tests;

public class Ipv6SettingsTests
{
    [Fact]
    public void Reads_the_address_prefix_and_gateway()
    {
        var settings = Ipv6Settings.Parse("fd63:6c65:616e::2/126,fd63:6c65:616e::1");
        Assert.Equal(new Ipv6Settings(IPAddress.Parse("fd63:6c65:616e::2"), 126, IPAddress.Parse("fd63:6c65:616e::1")), settings);
    }

    [Theory]
    [InlineData("fd00::2/1,fd00::1")]
    [InlineData("fd00::2/127,fd00::3")]
    [InlineData("2001:db8::10/64,fe80::1")] // a link-local gateway is on every link
    [InlineData("64:ff9b::1.2.3.4/96,64:ff9b::1")] // embedded IPv4 notation of a real IPv6 address
    [InlineData("FD00::2/64,FD00::1")]
    public void Accepts_valid_links(string value) => Assert.NotNull(Ipv6Settings.Parse(value));

    [Theory]
    [InlineData("")]
    [InlineData("fd00::2/64")] // no gateway
    [InlineData("fd00::2/64,fd00::1,fd00::1")] // a resolver or anything else extra
    [InlineData("fd00::2/64,fd00::1,")]
    [InlineData("fd00::2,fd00::1")] // no prefix
    [InlineData("fd00::2/,fd00::1")]
    [InlineData("/64,fd00::1")]
    [InlineData("fd00::2/0,fd00::1")] // prefix bounds
    [InlineData("fd00::2/128,fd00::1")]
    [InlineData("fd00::2/129,fd00::1")]
    [InlineData("fd00::2/0064,fd00::1")]
    [InlineData("fd00::2/+64,fd00::1")]
    [InlineData("fd00::2/-1,fd00::1")]
    [InlineData("fd00::2/ 64,fd00::1")]
    [InlineData("fd00::2/64, fd00::1")]
    [InlineData("10.0.0.2/30,10.0.0.1")] // IPv4 in the IPv6 argument
    [InlineData("fd00::2/64,10.0.0.1")]
    [InlineData("10.0.0.2/64,fd00::1")]
    [InlineData("::ffff:10.0.0.2/126,::ffff:10.0.0.1")] // v4-mapped
    [InlineData("fd00::2/64,::ffff:10.0.0.1")]
    [InlineData("fd00::g/64,fd00::1")] // not addresses
    [InlineData("fd00:::2/64,fd00::1")]
    [InlineData("fd00::2/64,fd00::1::")]
    [InlineData("[fd00::2]/64,fd00::1")]
    [InlineData("fd00::2/64,[fd00::1]")]
    [InlineData("fe80::2%eth0/64,fe80::1")] // zones
    [InlineData("fe80::2/64,fe80::1%1")]
    [InlineData("::/64,::1")] // unspecified, loopback, multicast
    [InlineData("::1/64,::2")]
    [InlineData("ff02::2/64,ff02::1")]
    [InlineData("fd00::2/64,ff02::1")]
    [InlineData("fd00::2/64,fd00::2")] // the gateway is the guest itself
    [InlineData("fd00::2/126,fd00::5")] // the gateway is off the link
    [InlineData("fd00::2/64,fd01::1")]
    public void Rejects_malformed_values(string value) => Assert.Null(Ipv6Settings.Parse(value));

    [Fact]
    public void Rejects_overlong_addresses() =>
        Assert.Null(Ipv6Settings.Parse($"fd00:{new string('0', 60)}::2/64,fd00::1"));

    [Fact]
    public void Boot_options_pick_it_up_beside_ipv4()
    {
        var options = BootOptions.Parse("quiet cleanroom.net=10.213.0.6/30,10.213.0.5,10.213.0.5 cleanroom.net6=fd63:6c65:616e::2/126,fd63:6c65:616e::1 panic=-1");
        Assert.NotNull(options.Network);
        Assert.Equal(new Ipv6Settings(IPAddress.Parse("fd63:6c65:616e::2"), 126, IPAddress.Parse("fd63:6c65:616e::1")), options.Network6);
    }

    [Theory]
    [InlineData("quiet")]
    [InlineData("cleanroom.net6=")]
    [InlineData("cleanroom.net6")]
    [InlineData("cleanroom.net6=10.0.0.2/30,10.0.0.1")]
    [InlineData("cleanroom.net=fd00::2/64,fd00::1")] // the IPv4 key does not take IPv6
    [InlineData("cleanroom.net6=fd00::2/64,fd00::1 cleanroom.net6=bad")] // the last occurrence wins, even malformed
    public void Boot_options_without_a_valid_value_have_no_ipv6(string commandLine) =>
        Assert.Null(BootOptions.Parse(commandLine).Network6);

    [Fact]
    public void The_ipv4_key_is_not_the_ipv6_key() =>
        Assert.Null(BootOptions.Parse("cleanroom.net6=fd00::2/64,fd00::1").Network);
}
