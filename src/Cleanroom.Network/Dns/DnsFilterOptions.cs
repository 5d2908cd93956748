using System.Net;

namespace Cleanroom.Network.Dns;

/// <summary>
/// Where the DNS filter listens, where it resolves, and the bounds that keep one guest from exhausting it. The defaults
/// are the production values; tests shorten the timeouts.
/// </summary>
public sealed record DnsFilterOptions
{
    /// <summary>Addresses to serve on, each over UDP and TCP (the firewall redirects guests' port 53 here).</summary>
    public required IReadOnlyList<IPEndPoint> ListenEndpoints { get; init; }

    /// <summary>Recursive resolvers to ask, in order; the next is tried when one fails or times out.</summary>
    public required IReadOnlyList<IPEndPoint> Upstreams { get; init; }

    /// <summary>How long one exchange with one upstream may take (UDP, or the TCP retry after truncation).</summary>
    public TimeSpan UpstreamTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How long a guest's query may take in all, upstreams and firewall included; then it fails (SERVFAIL).</summary>
    public TimeSpan QueryTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long opening the firewall for an answer may take; then the query fails closed (SERVFAIL).</summary>
    public TimeSpan AllowanceTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>The largest TTL a guest is given; longer upstream TTLs are cut to it.</summary>
    public TimeSpan MaxTtl { get; init; } = TimeSpan.FromSeconds(300);

    /// <summary>Queries one sandbox may have waiting on upstreams at once; more are dropped.</summary>
    public int MaxInFlightPerClient { get; init; } = 32;

    /// <summary>Queries all sandboxes together may have waiting on upstreams at once; more are dropped.</summary>
    public int MaxInFlightTotal { get; init; } = 1024;

    /// <summary>Open TCP connections per sandbox; more are closed at once.</summary>
    public int MaxTcpConnectionsPerClient { get; init; } = 8;

    /// <summary>Open TCP connections in all; more are closed at once.</summary>
    public int MaxTcpConnectionsTotal { get; init; } = 256;

    /// <summary>How long a TCP connection may sit without delivering a whole query (or taking an answer).</summary>
    public TimeSpan TcpIdleTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Queries served on one TCP connection before the filter closes it.</summary>
    public int MaxQueriesPerTcpConnection { get; init; } = 100;

    /// <summary>The largest query accepted from a guest, over UDP or TCP. A real query is well under 600 bytes.</summary>
    public int MaxQueryBytes { get; init; } = 4096;

    /// <summary>
    /// The largest UDP answer sent to a guest that announced a larger EDNS buffer (without EDNS the limit is 512);
    /// 1232 avoids IP fragmentation on any common path (DNS Flag Day 2020).
    /// </summary>
    public int MaxUdpResponseBytes { get; init; } = 1232;

    /// <summary>The EDNS UDP buffer size the filter announces to upstreams.</summary>
    public ushort UpstreamEdnsUdpSize { get; init; } = 1232;

    /// <summary>The largest upstream UDP message read; larger ones are ignored.</summary>
    public int MaxUpstreamUdpBytes { get; init; } = 4096;

    /// <summary>The largest upstream TCP message read; a longer one fails the exchange.</summary>
    public int MaxUpstreamTcpBytes { get; init; } = 16384;

    /// <summary>CNAME records followed from the name asked; a longer chain fails the query (SERVFAIL).</summary>
    public int MaxCnameChain { get; init; } = 8;

    /// <summary>Records of the asked type copied into an answer; more are left out.</summary>
    public int MaxAnswerRecords { get; init; } = 32;

    /// <summary>
    /// The host gateway's name (<c>gateway.cleanroom.internal</c>), or null when there is no gateway. The filter answers
    /// it itself, whatever the policy (the gateway checks each request), with the asking sandbox's
    /// <see cref="DnsClient.GatewayAddress"/>: it is never sent upstream and never refused.
    /// </summary>
    public string? GatewayName { get; init; }

    /// <summary>The TTL of the gateway name's answers.</summary>
    public TimeSpan GatewayTtl { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long stopping waits for loops and queries in progress to end.</summary>
    public TimeSpan StopTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first option that is out of range.</summary>
    public void Validate()
    {
        Require(ListenEndpoints is { Count: > 0 }, nameof(ListenEndpoints), "needs at least one endpoint");
        Require(Upstreams is { Count: > 0 }, nameof(Upstreams), "needs at least one resolver");
        foreach (var (value, name) in new[]
        {
            (UpstreamTimeout, nameof(UpstreamTimeout)), (QueryTimeout, nameof(QueryTimeout)),
            (AllowanceTimeout, nameof(AllowanceTimeout)), (TcpIdleTimeout, nameof(TcpIdleTimeout)), (StopTimeout, nameof(StopTimeout)),
        })
        {
            Require(value > TimeSpan.Zero && value <= TimeSpan.FromMinutes(5), name, "must be between zero and five minutes");
        }

        Require(GatewayName is null || (Wire.DnsName.TryParse(GatewayName, out _) && !GatewayName.EndsWith('.')), nameof(GatewayName), "must be a DNS name without a trailing dot");
        Require(GatewayTtl >= TimeSpan.Zero && GatewayTtl <= TimeSpan.FromDays(1), nameof(GatewayTtl), "must be between zero and a day");
        Require(MaxTtl >= TimeSpan.Zero && MaxTtl.TotalSeconds <= int.MaxValue, nameof(MaxTtl), "must be a non-negative number of seconds");
        foreach (var (value, name) in new[]
        {
            (MaxInFlightPerClient, nameof(MaxInFlightPerClient)), (MaxInFlightTotal, nameof(MaxInFlightTotal)),
            (MaxTcpConnectionsPerClient, nameof(MaxTcpConnectionsPerClient)), (MaxTcpConnectionsTotal, nameof(MaxTcpConnectionsTotal)),
            (MaxQueriesPerTcpConnection, nameof(MaxQueriesPerTcpConnection)), (MaxCnameChain, nameof(MaxCnameChain)),
            (MaxAnswerRecords, nameof(MaxAnswerRecords)),
        })
        {
            Require(value > 0, name, "must be positive");
        }

        Require(MaxQueryBytes is >= 512 and <= 65535, nameof(MaxQueryBytes), "must be 512–65535");
        Require(MaxUdpResponseBytes is >= 512 and <= 65535, nameof(MaxUdpResponseBytes), "must be 512–65535");
        Require(UpstreamEdnsUdpSize >= 512, nameof(UpstreamEdnsUdpSize), "must be at least 512");
        Require(MaxUpstreamUdpBytes is >= 512 and <= 65535, nameof(MaxUpstreamUdpBytes), "must be 512–65535");
        Require(MaxUpstreamTcpBytes is >= 512 and <= 65535, nameof(MaxUpstreamTcpBytes), "must be 512–65535");
        Require(UpstreamEdnsUdpSize <= MaxUpstreamUdpBytes, nameof(UpstreamEdnsUdpSize), "must not exceed MaxUpstreamUdpBytes");
    }

    private static void Require(bool condition, string option, string problem)
    {
        if (!condition)
        {
            throw new ArgumentException($"DnsFilterOptions.{option} {problem}", option);
        }
    }
}
