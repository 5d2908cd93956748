using System.Buffers.Binary;
using System.Net;

namespace Cleanroom.Network.Tests.Nflog.Support;

/// <summary>Hand-built IPv4/IPv6 packets (headers only, as NFLOG's copy range would cut them), for the parser tests.</summary>
internal static class IpPackets
{
    public const byte Icmp = 1;
    public const byte Tcp = 6;
    public const byte Udp = 17;
    public const byte IcmpV6 = 58;

    /// <summary>A TCP or UDP header start: source and destination port, then filler.</summary>
    public static byte[] Ports(int sourcePort, int destinationPort, int length = 8)
    {
        var header = new byte[length];
        BinaryPrimitives.WriteUInt16BigEndian(header, (ushort)sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(2), (ushort)destinationPort);
        return header;
    }

    /// <summary>An ICMP(v6) echo request header.</summary>
    public static byte[] Echo(byte type) => [type, 0, 0, 0, 0x12, 0x34, 0, 1];

    public static byte[] V4(string source, string destination, byte protocol, byte[] transport, int optionWords = 0, ushort fragmentField = 0)
    {
        var headerLength = 20 + optionWords * 4;
        var packet = new byte[headerLength + transport.Length];
        packet[0] = (byte)(0x40 | (headerLength / 4));
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), (ushort)packet.Length);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(6), fragmentField);
        packet[8] = 64;
        packet[9] = protocol;
        IPAddress.Parse(source).GetAddressBytes().CopyTo(packet, 12);
        IPAddress.Parse(destination).GetAddressBytes().CopyTo(packet, 16);
        transport.CopyTo(packet, headerLength);
        return packet;
    }

    /// <summary>An IPv6 packet whose next header is <paramref name="nextHeader"/>; <paramref name="rest"/> follows the fixed header.</summary>
    public static byte[] V6(string source, string destination, byte nextHeader, byte[] rest)
    {
        var packet = new byte[40 + rest.Length];
        packet[0] = 0x60;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(4), (ushort)rest.Length);
        packet[6] = nextHeader;
        packet[7] = 64;
        IPAddress.Parse(source).GetAddressBytes().CopyTo(packet, 8);
        IPAddress.Parse(destination).GetAddressBytes().CopyTo(packet, 24);
        rest.CopyTo(packet, 40);
        return packet;
    }

    /// <summary>A hop-by-hop or destination-options extension header of 8 bytes naming <paramref name="next"/>.</summary>
    public static byte[] Options8(byte next) => [next, 0, 1, 4, 0, 0, 0, 0];

    /// <summary>A fragment header naming <paramref name="next"/> at <paramref name="offsetUnits"/> × 8 bytes.</summary>
    public static byte[] Fragment(byte next, int offsetUnits)
    {
        var header = new byte[8];
        header[0] = next;
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(2), (ushort)(offsetUnits << 3));
        return header;
    }

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();
}
