using System.Net;

namespace Cleanroom.Network.Nflog;

/// <summary>
/// One packet the firewall logged before dropping it, as far as its first bytes tell. Addresses, protocol and port come
/// from the packet itself (guest-written); the prefix and interface indexes come from the kernel and the ruleset.
/// </summary>
/// <param name="Source">The packet's source address. Guest-written: trust it for attribution only where the ruleset
/// drops spoofed sources before this log rule.</param>
/// <param name="Destination">Where the packet was going.</param>
/// <param name="Protocol">The IANA transport protocol number (6 tcp, 17 udp, 1 icmp, 58 icmpv6, …), or
/// <see cref="UnknownProtocol"/> when an IPv6 extension header chain could not be followed within the copied bytes.</param>
/// <param name="DestinationPort">The TCP/UDP destination port; 0 for other protocols, non-first fragments, and
/// transport headers cut off by the copy range.</param>
/// <param name="Prefix">The rule's log prefix, or null when the rule sets none (or an empty one).</param>
/// <param name="InputInterfaceIndex">The kernel's index of the interface the packet came in on (a sandbox's TAP in
/// forward and input chains); 0 when there is none (output chain).</param>
/// <param name="OutputInterfaceIndex">The index of the interface it would have left by; 0 when not yet routed.</param>
public sealed record LoggedPacket(
    IPAddress Source,
    IPAddress Destination,
    int Protocol,
    int DestinationPort,
    string? Prefix,
    int InputInterfaceIndex,
    int OutputInterfaceIndex)
{
    /// <summary>The protocol was not found (see <see cref="Protocol"/>).</summary>
    public const int UnknownProtocol = -1;

    /// <summary><c>tcp</c>, <c>udp</c>, <c>icmp</c>, <c>icmpv6</c> or <c>other</c>: the names audit events use.</summary>
    public string ProtocolName => Protocol switch
    {
        IpProtocols.Tcp => "tcp",
        IpProtocols.Udp => "udp",
        IpProtocols.Icmp => "icmp",
        IpProtocols.IcmpV6 => "icmpv6",
        _ => "other",
    };
}
