using System.Net;
using Cleanroom.HostProcesses;
using Cleanroom.Network.Conntrack;
using Cleanroom.Network.Nflog;
using Cleanroom.Network.Tests.Nflog.Support;

namespace Cleanroom.Network.Tests.Conntrack;

/// <summary>
/// A new sandbox must not inherit the tracked connections of its address's previous holder: the daemon deletes them
/// over ctnetlink. Against the kernel's real conntrack table of a network namespace of the test's own, filled with
/// conntrack(8) and read back with it.
/// </summary>
public sealed class ConntrackFlowsNamespaceTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);
    private static readonly IPAddress Previous = IPAddress.Parse("10.213.0.6");
    private static readonly IPAddress Neighbour = IPAddress.Parse("10.213.0.10");
    private static readonly IPAddress Previous6 = IPAddress.Parse("fd63:6c65:616e::6");

    [RootNetnsFact]
    public async Task Every_connection_from_the_address_goes_and_no_other()
    {
        await using var ns = await TestNetworkNamespace.CreateAsync();
        await TrackAsync(ns, Previous, "tcp", 40001);
        await TrackAsync(ns, Previous, "udp", 40002);
        await TrackAsync(ns, Neighbour, "tcp", 40003);
        await TrackAsync(ns, Previous6, "tcp", 40004);

        var forgotten = ns.Run(() => ConntrackFlows.ForgetSource(Previous, Timeout));

        Assert.Equal(2, forgotten);
        Assert.Equal(0, await CountFromAsync(ns, Previous));
        Assert.Equal(1, await CountFromAsync(ns, Neighbour));
        Assert.Equal(1, await CountFromAsync(ns, Previous6)); // another family, another address
    }

    [RootNetnsFact]
    public async Task An_ipv6_address_is_forgotten_in_its_own_table()
    {
        await using var ns = await TestNetworkNamespace.CreateAsync();
        await TrackAsync(ns, Previous6, "tcp", 40001);
        await TrackAsync(ns, Previous6, "udp", 40002);
        await TrackAsync(ns, Previous, "tcp", 40003);

        var forgotten = ns.Run(() => ConntrackFlows.ForgetSource(Previous6, Timeout));

        Assert.Equal(2, forgotten);
        Assert.Equal(0, await CountFromAsync(ns, Previous6));
        Assert.Equal(1, await CountFromAsync(ns, Previous));
    }

    [RootNetnsFact]
    public async Task More_connections_than_one_pass_holds_take_more_passes_and_an_empty_table_is_no_error()
    {
        await using var ns = await TestNetworkNamespace.CreateAsync();
        Assert.Equal(0, ns.Run(() => ConntrackFlows.ForgetSource(Previous, Timeout)));
        for (var port = 40001; port <= 40005; port++)
        {
            await TrackAsync(ns, Previous, "tcp", port);
        }

        // Two per pass: three passes (2, 2, 1) delete all five.
        Assert.Equal(5, ns.Run(() => ConntrackFlows.ForgetSource(Previous, Timeout, maxPerPass: 2, ConntrackFlows.Budget)));
        Assert.Equal(0, await CountFromAsync(ns, Previous));
    }

    [RootNetnsFact]
    public async Task Connections_left_when_the_budget_is_spent_are_reported_not_looped_on()
    {
        await using var ns = await TestNetworkNamespace.CreateAsync();
        for (var port = 40001; port <= 40003; port++)
        {
            await TrackAsync(ns, Previous, "udp", port);
        }

        // One per pass and no time for a second: the caller hears that some are left, after what could go went.
        var ex = Assert.Throws<ConntrackFlowsRemainException>(() => ns.Run(() => ConntrackFlows.ForgetSource(Previous, Timeout, maxPerPass: 1, budget: TimeSpan.Zero)));
        Assert.Contains(Previous.ToString(), ex.Message, StringComparison.Ordinal);
        Assert.Equal(2, await CountFromAsync(ns, Previous));
    }

    private static Task<HostCommandResult> ConntrackAsync(TestNetworkNamespace ns, params string[] args) =>
        HostCommand.RunAsync(RootNetns.Ip!, ["netns", "exec", ns.Name, "conntrack", .. args], Timeout, CancellationToken.None);

    /// <summary>An established connection from <paramref name="source"/> to the next address up, as a firewall would have tracked it.</summary>
    private static async Task TrackAsync(TestNetworkNamespace ns, IPAddress source, string protocol, int sourcePort)
    {
        var bytes = source.GetAddressBytes();
        bytes[^1]--;
        string[] state = protocol == "tcp" ? ["--state", "ESTABLISHED"] : [];
        await ConntrackAsync(ns, ["-I", "-s", source.ToString(), "-d", new IPAddress(bytes).ToString(), "-p", protocol, "--sport", sourcePort.ToString(System.Globalization.CultureInfo.InvariantCulture), "--dport", "443", .. state, "-t", "120", "-u", "SEEN_REPLY"]);
    }

    private static async Task<int> CountFromAsync(TestNetworkNamespace ns, IPAddress source)
    {
        var family = source.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? "ipv6" : "ipv4";
        var listing = await ConntrackAsync(ns, "-L", "-f", family);
        return listing.Stdout.Split('\n').Count(line => line.Contains($" src={source} ", StringComparison.Ordinal));
    }
}
