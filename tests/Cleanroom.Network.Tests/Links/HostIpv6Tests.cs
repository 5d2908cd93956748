namespace Cleanroom.Network.Tests.Links;

/// <summary>Reading the host's IPv6 route table and turning forwarding on, against files laid out as /proc has them.</summary>
public sealed class HostIpv6Tests : IDisposable
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("cr-ipv6-");

    [Fact]
    public void A_default_route_counts_only_when_it_leads_somewhere()
    {
        var table = Path.Combine(_root.FullName, "ipv6_route");
        var disabled = Path.Combine(_root.FullName, "disable_ipv6");
        File.WriteAllText(disabled, "0\n");
        const string Subnet = "fd000000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0\n";
        const string Default = "00000000000000000000000000000000 00 00000000000000000000000000000000 00 fd000000000000000000000000000001 00000400 00000001 00000000 00000003     eth0\n";
        const string Unreachable = "00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo\n";

        File.WriteAllText(table, Subnet);
        Assert.False(HostIpv6.HasDefaultRoute(table, disabled));
        File.WriteAllText(table, Subnet + Unreachable);
        Assert.False(HostIpv6.HasDefaultRoute(table, disabled));
        File.WriteAllText(table, Subnet + Default);
        Assert.True(HostIpv6.HasDefaultRoute(table, disabled));
        File.WriteAllText(disabled, "1\n");
        Assert.False(HostIpv6.HasDefaultRoute(table, disabled));
        Assert.False(HostIpv6.HasDefaultRoute(Path.Combine(_root.FullName, "missing"), disabled));
    }

    [Fact]
    public async Task Forwarding_keeps_router_advertisements_where_they_were_accepted()
    {
        var conf = _root.CreateSubdirectory("conf");
        Write(conf, "all", forwarding: "0", acceptRa: "1");
        Write(conf, "eth0", forwarding: "0", acceptRa: "1");
        Write(conf, "eth1", forwarding: "0", acceptRa: "0");

        var changes = await HostIpv6.EnableForwardingAsync(CancellationToken.None, conf.FullName);

        Assert.Equal("1", Read(conf, "all", "forwarding"));
        Assert.Equal("2", Read(conf, "eth0", "accept_ra"));
        Assert.Equal("0", Read(conf, "eth1", "accept_ra"));
        Assert.Equal("1", Read(conf, "all", "accept_ra"));
        Assert.Equal(2, changes.Count);

        // Already on: nothing is touched.
        File.WriteAllText(Path.Combine(conf.FullName, "eth1", "accept_ra"), "1\n");
        Assert.Empty(await HostIpv6.EnableForwardingAsync(CancellationToken.None, conf.FullName));
        Assert.Equal("1", Read(conf, "eth1", "accept_ra"));
    }

    public void Dispose() => _root.Delete(recursive: true);

    private static void Write(DirectoryInfo conf, string name, string forwarding, string acceptRa)
    {
        var directory = conf.CreateSubdirectory(name);
        File.WriteAllText(Path.Combine(directory.FullName, "forwarding"), forwarding + "\n");
        File.WriteAllText(Path.Combine(directory.FullName, "accept_ra"), acceptRa + "\n");
    }

    private static string Read(DirectoryInfo conf, string name, string file) => File.ReadAllText(Path.Combine(conf.FullName, name, file)).Trim();
}
