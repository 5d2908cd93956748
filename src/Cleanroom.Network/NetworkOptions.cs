using System.Net;

namespace Cleanroom.Network;

/// <summary>How the daemon gives sandboxes their network (<c>cleanroom serve</c> flags).</summary>
public sealed record NetworkOptions
{
    /// <summary>The default address pool: a private /16, split into /30 links (16,384 sandboxes).</summary>
    public static readonly IPNetwork DefaultPool = IPNetwork.Parse("10.213.0.0/16");

    /// <summary>IPv4 block the sandboxes' links are cut from (<c>--network-pool</c>).</summary>
    public IPNetwork Pool { get; init; } = DefaultPool;

    /// <summary>The default IPv6 pool: a unique-local /64 ("clean" in hex), cut into /126 links like the IPv4 pool.</summary>
    public static readonly IPNetwork DefaultPool6 = IPNetwork.Parse("fd63:6c65:616e::/64");

    /// <summary>
    /// IPv6 block the links' second addresses are cut from (<c>--network-pool6</c>); null when sandboxes get no IPv6
    /// (<c>--ipv6 off</c>, or a host without an IPv6 route): then AAAA questions get no addresses and the firewall
    /// drops every IPv6 packet from a guest.
    /// </summary>
    public IPNetwork? Pool6 { get; init; }

    /// <summary>Resolvers that allowed queries go to (<c>--dns-upstream</c>); empty: the host's resolv.conf.</summary>
    public IReadOnlyList<IPEndPoint> DnsUpstreams { get; init; } = [];

    /// <summary>
    /// The host port the DNS filter listens on; guests' queries to port 53 of their gateway are redirected to it, so
    /// it never has to take port 53 from a resolver the host runs itself.
    /// </summary>
    public int DnsPort { get; init; } = 10053;

    /// <summary>
    /// The host port of the connection guard: guests' TCP connections to destinations learned from DNS are redirected
    /// there, so the TLS server name or HTTP Host they name is checked against the policy (co-hosted names).
    /// </summary>
    public int GuardPort { get; init; } = 10054;

    /// <summary>The port guests connect to for the host gateway (<c>gateway.cleanroom.internal:8170</c>).</summary>
    public const int GatewayGuestPort = 8170;

    /// <summary>
    /// The host port the gateway listens on: guests' TCP to port <see cref="GatewayGuestPort"/> of a host address is
    /// redirected here, and nothing else may reach it. Null renders no gateway rules at all (<c>--gateway off</c>).
    /// </summary>
    public int? GatewayPort { get; init; } = 10055;

    /// <summary>
    /// How TCP to destinations learned from DNS is checked (<c>--guard-mode</c>): by the proxy guard (redirected to
    /// <see cref="GuardPort"/>, a second TCP connection from the host) or by the queue guard (forwarded as it is, its
    /// packets sent to NFQUEUE <see cref="QueueNumber"/> until its first message is decided).
    /// </summary>
    public GuardMode GuardMode { get; init; } = GuardMode.Proxy;

    /// <summary>The NFQUEUE the queue guard reads (<see cref="GuardMode.Queue"/>).</summary>
    public ushort QueueNumber { get; init; } = 7352;

    /// <summary>The nftables table (family inet) Cleanroom owns; nothing else is ever touched.</summary>
    public string TableName { get; init; } = "cleanroom";

    /// <summary>The NFLOG group dropped packets are reported on.</summary>
    public int LogGroup { get; init; } = 7351;

    /// <summary>Prefix of the TAP devices' names (the link index follows).</summary>
    public string TapPrefix { get; init; } = "crtap";
}

/// <summary>How the first message of a guest's TCP connection to a learned destination is checked.</summary>
public enum GuardMode
{
    /// <summary>Redirected to the connection guard, which terminates it and connects upstream itself.</summary>
    Proxy,

    /// <summary>Forwarded; its packets pass through NFQUEUE until the first message is decided, then bypass it.</summary>
    Queue,
}
