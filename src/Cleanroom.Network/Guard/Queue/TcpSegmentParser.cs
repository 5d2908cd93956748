using System.Buffers.Binary;
using Cleanroom.Network.Nflog;

namespace Cleanroom.Network.Guard.Queue;

/// <summary>Why a queued packet could not be read as one whole TCP segment (and was dropped).</summary>
internal enum SegmentFailure
{
    None,
    NotIp,
    BadIpHeader,
    Fragment,
    NotTcp,
    BadTcpHeader,
}

/// <summary>
/// Reads an IPv4 or IPv6 packet (as NFQUEUE copied it, from the IP header on) as one TCP segment. Every length the
/// guest wrote is checked against the bytes there are; fragments, truncated packets and extension header chains
/// that do not end in TCP are failures, so the caller drops them. Never throws, never reads outside the span.
/// </summary>
internal static class TcpSegmentParser
{
    private const int V4MinimumHeader = 20;
    private const int V6Header = 40;
    private const int TcpMinimumHeader = 20;
    private const int MaxV6ExtensionHeaders = 8;

    /// <summary>
    /// Reads the addresses only, so a packet that fails <see cref="TryParse"/> can still be attributed to a sandbox
    /// (for the audit). False when not even they are readable.
    /// </summary>
    public static bool TryReadAddresses(ReadOnlySpan<byte> packet, out bool v6, out UInt128 source, out UInt128 destination)
    {
        v6 = false;
        source = destination = 0;
        if (packet.Length >= V4MinimumHeader && packet[0] >> 4 == 4)
        {
            source = FlowKey.FromBytes(packet.Slice(12, 4));
            destination = FlowKey.FromBytes(packet.Slice(16, 4));
            return true;
        }

        if (packet.Length >= V6Header && packet[0] >> 4 == 6)
        {
            v6 = true;
            source = FlowKey.FromBytes(packet.Slice(8, 16));
            destination = FlowKey.FromBytes(packet.Slice(24, 16));
            return true;
        }

        return false;
    }

    public static SegmentFailure TryParse(ReadOnlySpan<byte> packet, byte family, out TcpSegment segment)
    {
        segment = default;
        if (packet.IsEmpty)
        {
            return SegmentFailure.NotIp;
        }

        var version = packet[0] >> 4;
        if (version == 4 && family == NflogProtocol.FamilyIPv4)
        {
            return ParseV4(packet, out segment);
        }

        return version == 6 && family == NflogProtocol.FamilyIPv6 ? ParseV6(packet, out segment) : SegmentFailure.NotIp;
    }

    private static SegmentFailure ParseV4(ReadOnlySpan<byte> packet, out TcpSegment segment)
    {
        segment = default;
        var headerLength = (packet[0] & 0x0F) * 4;
        if (packet.Length < V4MinimumHeader || headerLength < V4MinimumHeader)
        {
            return SegmentFailure.BadIpHeader;
        }

        // The total length must cover the header and fit in what was copied (the caller rejects truncated copies;
        // bytes past the total length are link padding and not the guest's stream).
        var total = BinaryPrimitives.ReadUInt16BigEndian(packet[2..]);
        if (total < headerLength || total > packet.Length)
        {
            return SegmentFailure.BadIpHeader;
        }

        // More fragments, or an offset: conntrack reassembles before forwarding, so a fragment here is not normal.
        if ((BinaryPrimitives.ReadUInt16BigEndian(packet[6..]) & 0x3FFF) != 0)
        {
            return SegmentFailure.Fragment;
        }

        if (packet[9] != IpProtocols.Tcp)
        {
            return SegmentFailure.NotTcp;
        }

        var source = FlowKey.FromBytes(packet.Slice(12, 4));
        var destination = FlowKey.FromBytes(packet.Slice(16, 4));
        return ParseTcp(false, source, destination, packet[headerLength..total], out segment);
    }

    private static SegmentFailure ParseV6(ReadOnlySpan<byte> packet, out TcpSegment segment)
    {
        segment = default;
        if (packet.Length < V6Header)
        {
            return SegmentFailure.BadIpHeader;
        }

        var payloadLength = BinaryPrimitives.ReadUInt16BigEndian(packet[4..]);
        if (payloadLength == 0 || V6Header + payloadLength > packet.Length)
        {
            // 0 would be a jumbogram (hop-by-hop option), which no guest link carries.
            return SegmentFailure.BadIpHeader;
        }

        var end = V6Header + payloadLength;
        var next = (int)packet[6];
        var offset = V6Header;
        for (var seen = 0; next != IpProtocols.Tcp; seen++)
        {
            if (seen == MaxV6ExtensionHeaders)
            {
                return SegmentFailure.BadIpHeader;
            }

            int length;
            switch (next)
            {
                case IpProtocols.V6HopByHop or IpProtocols.V6Routing or IpProtocols.V6DestinationOptions:
                    if (offset + 2 > end)
                    {
                        return SegmentFailure.BadIpHeader;
                    }

                    length = (packet[offset + 1] + 1) * 8;
                    break;
                case IpProtocols.V6Fragment:
                    return SegmentFailure.Fragment;
                default:
                    return SegmentFailure.NotTcp;
            }

            if (offset + length > end)
            {
                return SegmentFailure.BadIpHeader;
            }

            next = packet[offset];
            offset += length;
        }

        var source = FlowKey.FromBytes(packet.Slice(8, 16));
        var destination = FlowKey.FromBytes(packet.Slice(24, 16));
        return ParseTcp(true, source, destination, packet[offset..end], out segment);
    }

    private static SegmentFailure ParseTcp(bool v6, UInt128 source, UInt128 destination, ReadOnlySpan<byte> tcp, out TcpSegment segment)
    {
        segment = default;
        if (tcp.Length < TcpMinimumHeader)
        {
            return SegmentFailure.BadTcpHeader;
        }

        var dataOffset = (tcp[12] >> 4) * 4;
        if (dataOffset < TcpMinimumHeader || dataOffset > tcp.Length)
        {
            return SegmentFailure.BadTcpHeader;
        }

        var sourcePort = BinaryPrimitives.ReadUInt16BigEndian(tcp);
        var destinationPort = BinaryPrimitives.ReadUInt16BigEndian(tcp[2..]);
        if (sourcePort == 0 || destinationPort == 0)
        {
            return SegmentFailure.BadTcpHeader;
        }

        var key = new FlowKey(v6, source, destination, sourcePort, destinationPort);
        segment = new TcpSegment(key, BinaryPrimitives.ReadUInt32BigEndian(tcp[4..]), (TcpFlags)(tcp[13] & 0x1F), tcp[dataOffset..]);
        return SegmentFailure.None;
    }
}
