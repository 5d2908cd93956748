using System.Buffers.Binary;
using System.Net;

namespace Cleanroom.Network.Nflog;

/// <summary>What the first bytes of a logged packet say about where it was going.</summary>
internal readonly record struct IpSummary(IPAddress Source, IPAddress Destination, int Protocol, int DestinationPort);

/// <summary>
/// Reads addresses, transport protocol and destination port from the start of an IPv4 or IPv6 packet as NFLOG copied
/// it (guest-written bytes, possibly cut short by the copy range). Never reads outside the span; never throws.
/// </summary>
internal static class IpHeaderParser
{
    private const int V4MinimumHeader = 20;
    private const int V6Header = 40;

    /// <summary>A hostile packet can chain extension headers; more than a handful is not traffic worth following.</summary>
    private const int MaxV6ExtensionHeaders = 8;

    /// <summary>
    /// Parses <paramref name="packet"/>. <paramref name="family"/> is the message's nfgenmsg family: IPv4 or IPv6
    /// must match the packet's version; other families (bridge, netdev) go by the version alone.
    /// </summary>
    public static ParseFailure TryParse(ReadOnlySpan<byte> packet, byte family, out IpSummary summary)
    {
        summary = default;
        if (packet.IsEmpty)
        {
            return ParseFailure.NotIp;
        }

        var version = packet[0] >> 4;
        if (version == 4 && family != NflogProtocol.FamilyIPv6)
        {
            return ParseV4(packet, out summary);
        }

        if (version == 6 && family != NflogProtocol.FamilyIPv4)
        {
            return ParseV6(packet, out summary);
        }

        return ParseFailure.NotIp;
    }

    private static ParseFailure ParseV4(ReadOnlySpan<byte> packet, out IpSummary summary)
    {
        summary = default;
        var headerLength = (packet[0] & 0x0F) * 4;
        if (packet.Length < V4MinimumHeader || headerLength < V4MinimumHeader || headerLength > packet.Length)
        {
            return ParseFailure.TruncatedIpHeader;
        }

        var protocol = packet[9];
        var source = new IPAddress(packet.Slice(12, 4));
        var destination = new IPAddress(packet.Slice(16, 4));
        // Only the first fragment carries the transport header.
        var fragmentOffset = BinaryPrimitives.ReadUInt16BigEndian(packet[6..]) & 0x1FFF;
        var port = fragmentOffset == 0 ? DestinationPort(protocol, packet[headerLength..]) : 0;
        summary = new IpSummary(source, destination, protocol, port);
        return ParseFailure.None;
    }

    private static ParseFailure ParseV6(ReadOnlySpan<byte> packet, out IpSummary summary)
    {
        summary = default;
        if (packet.Length < V6Header)
        {
            return ParseFailure.TruncatedIpHeader;
        }

        var source = new IPAddress(packet.Slice(8, 16));
        var destination = new IPAddress(packet.Slice(24, 16));
        var (protocol, port) = FollowV6Chain(packet, packet[6]);
        summary = new IpSummary(source, destination, protocol, port);
        return ParseFailure.None;
    }

    /// <summary>
    /// Walks the extension headers after the fixed IPv6 header to the transport header. A chain that runs past the
    /// copied bytes or is too long yields <see cref="LoggedPacket.UnknownProtocol"/>: the destination is still known.
    /// </summary>
    private static (int Protocol, int Port) FollowV6Chain(ReadOnlySpan<byte> packet, int next)
    {
        var offset = V6Header;
        for (var seen = 0; seen <= MaxV6ExtensionHeaders; seen++)
        {
            int length;
            switch (next)
            {
                case IpProtocols.V6HopByHop or IpProtocols.V6Routing or IpProtocols.V6DestinationOptions:
                    if (offset + 2 > packet.Length)
                    {
                        return (LoggedPacket.UnknownProtocol, 0);
                    }

                    length = (packet[offset + 1] + 1) * 8;
                    break;
                case IpProtocols.V6AuthenticationHeader:
                    if (offset + 2 > packet.Length)
                    {
                        return (LoggedPacket.UnknownProtocol, 0);
                    }

                    length = (packet[offset + 1] + 2) * 4;
                    break;
                case IpProtocols.V6Fragment:
                    if (offset + 8 > packet.Length)
                    {
                        return (LoggedPacket.UnknownProtocol, 0);
                    }

                    if ((BinaryPrimitives.ReadUInt16BigEndian(packet[(offset + 2)..]) & 0xFFF8) != 0)
                    {
                        // A later fragment: the protocol is known, the transport header is in the first one.
                        return (packet[offset], 0);
                    }

                    length = 8;
                    break;
                default:
                    var transport = offset <= packet.Length ? packet[offset..] : default;
                    return (next, DestinationPort(next, transport));
            }

            next = packet[offset];
            offset += length;
        }

        return (LoggedPacket.UnknownProtocol, 0);
    }

    /// <summary>The TCP/UDP destination port (bytes 2-3 of either header); 0 for other protocols or when cut off.</summary>
    private static int DestinationPort(int protocol, ReadOnlySpan<byte> transport) =>
        protocol is IpProtocols.Tcp or IpProtocols.Udp && transport.Length >= 4
            ? BinaryPrimitives.ReadUInt16BigEndian(transport[2..])
            : 0;
}
