using System.Net;
using System.Net.Sockets;
using Cleanroom.Network.Dns;
using Cleanroom.Network.Tests.Dns.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cleanroom.Network.Tests.Dns;

/// <summary>Starting, stopping and configuring the filter.</summary>
public sealed class DnsFilterLifecycleTests
{
    private static readonly IPEndPoint Upstream = new(IPAddress.Loopback, 53);

    private static DnsFilter Create(DnsFilterOptions options) =>
        new(options, new TestSandboxes(), new RecordingAllowance(), new RecordingAudit(), NullLogger<DnsFilter>.Instance);

    [Fact]
    public async Task Every_listen_endpoint_serves_udp_and_tcp()
    {
        var any = new IPEndPoint(IPAddress.Loopback, 0);
        await using var filter = FilterHarness.Start([Upstream], o => o with { ListenEndpoints = [any, any] });
        using var guest = new Guest(TestSandboxes.PolicyAddress);
        var query = new GuestQuery(0x1001, "denied.test", GuestQuery.A);

        Assert.Equal(2, filter.Filter.UdpEndpoints.Count);
        foreach (var endpoint in filter.Filter.UdpEndpoints)
        {
            Assert.Equal(Cleanroom.Network.Dns.Wire.DnsResponseCode.Refused, (await guest.AskAsync(endpoint, query)).Code);
        }

        foreach (var endpoint in filter.Filter.TcpEndpoints)
        {
            Assert.Equal(Cleanroom.Network.Dns.Wire.DnsResponseCode.Refused, (await guest.AskTcpAsync(endpoint, query)).Code);
        }
    }

    [Fact]
    public async Task If_one_endpoint_cannot_be_bound_none_stays_bound()
    {
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var free = FreeEndpoint();
        await using var filter = Create(new DnsFilterOptions { ListenEndpoints = [free, (IPEndPoint)taken.LocalEndPoint!], Upstreams = [Upstream] });

        Assert.Throws<SocketException>(filter.Start);

        using var again = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        again.Bind(free);
        using var againTcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        againTcp.Bind(free);
    }

    [Fact]
    public async Task A_filter_starts_once_and_not_after_it_stopped()
    {
        await using var filter = Create(new DnsFilterOptions { ListenEndpoints = [new IPEndPoint(IPAddress.Loopback, 0)], Upstreams = [Upstream] });

        filter.Start();
        Assert.Throws<InvalidOperationException>(filter.Start);
        await filter.StopAsync();
        await filter.StopAsync();
        Assert.Throws<ObjectDisposedException>(filter.Start);
    }

    public static TheoryData<string, Func<DnsFilterOptions, DnsFilterOptions>> BadOptions() => new()
    {
        { "ListenEndpoints", o => o with { ListenEndpoints = [] } },
        { "Upstreams", o => o with { Upstreams = [] } },
        { "UpstreamTimeout", o => o with { UpstreamTimeout = TimeSpan.Zero } },
        { "TcpIdleTimeout", o => o with { TcpIdleTimeout = TimeSpan.FromHours(1) } },
        { "MaxInFlightPerClient", o => o with { MaxInFlightPerClient = 0 } },
        { "MaxQueryBytes", o => o with { MaxQueryBytes = 100 } },
        { "UpstreamEdnsUdpSize", o => o with { UpstreamEdnsUdpSize = 8192 } },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void Options_out_of_range_are_named(string option, Func<DnsFilterOptions, DnsFilterOptions> change)
    {
        var options = change(new DnsFilterOptions { ListenEndpoints = [new IPEndPoint(IPAddress.Loopback, 0)], Upstreams = [Upstream] });

        var error = Assert.Throws<ArgumentException>(() => Create(options));
        Assert.Equal(option, error.ParamName);
    }

    private static IPEndPoint FreeEndpoint()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return (IPEndPoint)probe.LocalEndPoint!;
    }
}
