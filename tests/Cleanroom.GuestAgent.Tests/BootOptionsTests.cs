using Cleanroom.GuestAgent.Init;

namespace Cleanroom.GuestAgent.Tests;

public class BootOptionsTests
{
    [Fact]
    public void Defaults_when_nothing_is_given()
    {
        var options = BootOptions.Parse("console=ttyS0 reboot=t panic=-1 quiet\n");
        Assert.Equal("cleanroom.agent", options.PortName);
        Assert.False(options.Probe);
        Assert.Equal("/dev/vda", options.RootDevice);
    }

    [Fact]
    public void Reads_the_agent_settings()
    {
        var options = BootOptions.Parse("console=ttyS0 cleanroom.agent_port=ctl cleanroom.probe=1 cleanroom.root=/dev/vdb quiet");
        Assert.Equal(new BootOptions { PortName = "ctl", Probe = true, RootDevice = "/dev/vdb" }, options);
    }

    [Fact]
    public void Last_occurrence_wins()
    {
        var options = BootOptions.Parse("cleanroom.probe=1 cleanroom.agent_port=a cleanroom.probe=0 cleanroom.agent_port=b");
        Assert.False(options.Probe);
        Assert.Equal("b", options.PortName);
    }

    [Theory]
    [InlineData("cleanroom.probe=yes")]
    [InlineData("cleanroom.probe")]
    [InlineData("cleanroom.probe=")]
    [InlineData("xcleanroom.probe=1")]
    public void Probe_needs_exactly_1(string commandLine) => Assert.False(BootOptions.Parse(commandLine).Probe);

    [Fact]
    public void Empty_values_keep_the_defaults()
    {
        var options = BootOptions.Parse("cleanroom.agent_port= cleanroom.root=");
        Assert.Equal(BootOptions.DefaultPortName, options.PortName);
        Assert.Equal(BootOptions.DefaultRootDevice, options.RootDevice);
    }

    [Fact]
    public void Quoted_values_may_contain_spaces()
    {
        var options = BootOptions.Parse("a=\"x y\" cleanroom.agent_port=\"my port\"\tcleanroom.probe=1");
        Assert.Equal("my port", options.PortName);
        Assert.True(options.Probe);
    }

    [Fact]
    public void Reads_the_network_link()
    {
        var network = BootOptions.Parse("quiet cleanroom.net=10.213.0.6/30,10.213.0.5,10.213.0.5").Network;
        Assert.NotNull(network);
        Assert.Equal("10.213.0.6", network.Address.ToString());
        Assert.Equal(30, network.PrefixLength);
        Assert.Equal("255.255.255.252", network.Netmask.ToString());
        Assert.Equal("10.213.0.5", network.Gateway.ToString());
        Assert.Equal("10.213.0.5", network.Resolver.ToString());
    }

    [Theory]
    [InlineData("cleanroom.net=10.0.0.2,10.0.0.1,10.0.0.1")]
    [InlineData("cleanroom.net=10.0.0.2/33,10.0.0.1,10.0.0.1")]
    [InlineData("cleanroom.net=10.0.0.2/+30,10.0.0.1,10.0.0.1")]
    [InlineData("cleanroom.net=10.0.0.2/30,10.0.0.1")]
    [InlineData("cleanroom.net=fd00::2/64,fd00::1,fd00::1")]
    [InlineData("cleanroom.net=10.0.0.2/30,10.0.0.1,10.0.0.1,extra")]
    public void A_malformed_network_link_configures_nothing(string commandLine) =>
        Assert.Null(BootOptions.Parse(commandLine).Network);
}
