using System.Net;
using Cleanroom.Network.Dns;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cleanroom.Network.Tests.Dns.Support;

/// <summary>A running filter on 127.0.0.1 with recording stand-ins for the firewall and the audit log.</summary>
internal sealed class FilterHarness : IAsyncDisposable
{
    private FilterHarness(DnsFilter filter, RecordingAllowance allowance, RecordingAudit audit)
    {
        Filter = filter;
        Allowance = allowance;
        Audit = audit;
    }

    public DnsFilter Filter { get; }

    public RecordingAllowance Allowance { get; }

    public RecordingAudit Audit { get; }

    public IPEndPoint Udp => Filter.UdpEndpoints[0];

    public IPEndPoint Tcp => Filter.TcpEndpoints[0];

    public DnsFilterStatistics Statistics => Filter.Statistics;

    /// <summary>
    /// Starts a filter resolving through <paramref name="upstreams"/>. Timeouts are the production ones unless a test
    /// is about them: the machine running the tests may be busy, and a loopback exchange can then take a while.
    /// </summary>
    public static FilterHarness Start(IReadOnlyList<IPEndPoint> upstreams, Func<DnsFilterOptions, DnsFilterOptions>? configure = null)
    {
        var options = new DnsFilterOptions
        {
            ListenEndpoints = [new IPEndPoint(IPAddress.Loopback, 0)],
            Upstreams = upstreams,
            StopTimeout = TimeSpan.FromSeconds(10),
        };
        options = configure?.Invoke(options) ?? options;
        var allowance = new RecordingAllowance();
        var audit = new RecordingAudit();
        var filter = new DnsFilter(options, new TestSandboxes(), allowance, audit, NullLogger<DnsFilter>.Instance);
        filter.Start();
        return new FilterHarness(filter, allowance, audit);
    }

    public async ValueTask DisposeAsync() => await Filter.DisposeAsync();
}
