using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace Cleanroom.Network.Tests.Nflog.Support;

/// <summary>
/// Hand-built netlink datagrams as the kernel's nfnetlink_log writes them, written independently of the product's own
/// request builder so a shared misunderstanding cannot hide. Netlink headers are in host byte order.
/// </summary>
internal static class NetlinkBytes
{
    public const ushort PacketType = 0x0400; // NFNL_SUBSYS_ULOG << 8 | NFULNL_MSG_PACKET
    public const ushort Done = 3;
    public const ushort Error = 2;
    public const ushort Overrun = 4;

    public const ushort PacketHeaderAttribute = 1;
    public const ushort InputInterfaceAttribute = 4;
    public const ushort OutputInterfaceAttribute = 5;
    public const ushort PayloadAttribute = 9;
    public const ushort PrefixAttribute = 10;
    public const ushort UidAttribute = 11;

    public const byte FamilyIPv4 = 2;
    public const byte FamilyIPv6 = 10;

    /// <summary>An attribute: 2-byte length (header included), 2-byte type, value, padding to 4.</summary>
    public static byte[] Attribute(ushort type, byte[] value, int? lengthOverride = null)
    {
        var bytes = new byte[Align(4 + value.Length)];
        var length = (ushort)(lengthOverride ?? 4 + value.Length);
        MemoryMarshal.Write(bytes, in length);
        MemoryMarshal.Write(bytes.AsSpan(2), in type);
        value.CopyTo(bytes, 4);
        return bytes;
    }

    public static byte[] BigEndian32(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return bytes;
    }

    /// <summary>struct nfulnl_msg_packet_hdr for an IP packet.</summary>
    public static byte[] PacketHeader(ushort etherType = 0x0800, byte hook = 3) =>
        [(byte)(etherType >> 8), (byte)etherType, hook, 0];

    public static byte[] Prefix(string prefix) => [.. Encoding.ASCII.GetBytes(prefix), 0];

    /// <summary>The body of a packet message as the kernel orders it: header, prefix, interfaces, payload.</summary>
    public static byte[] PacketBody(ushort group, byte family, byte[] payload, string? prefix = null, int inputInterface = 0, int outputInterface = 0)
    {
        var attributes = new List<byte[]> { Attribute(PacketHeaderAttribute, PacketHeader(family == FamilyIPv6 ? (ushort)0x86DD : (ushort)0x0800)) };
        if (prefix is not null)
        {
            attributes.Add(Attribute(PrefixAttribute, Prefix(prefix)));
        }

        if (inputInterface != 0)
        {
            attributes.Add(Attribute(InputInterfaceAttribute, BigEndian32((uint)inputInterface)));
        }

        if (outputInterface != 0)
        {
            attributes.Add(Attribute(OutputInterfaceAttribute, BigEndian32((uint)outputInterface)));
        }

        attributes.Add(Attribute(UidAttribute, BigEndian32(1000)));
        attributes.Add(Attribute(PayloadAttribute, payload));
        return Body(group, family, [.. attributes]);
    }

    /// <summary>struct nfgenmsg then the given attributes.</summary>
    public static byte[] Body(ushort group, byte family, params byte[][] attributes)
    {
        byte[] generic = [family, 0, (byte)(group >> 8), (byte)group];
        return [.. generic, .. attributes.SelectMany(a => a)];
    }

    /// <summary>A netlink message around <paramref name="body"/>, padded to 4 unless <paramref name="pad"/> is false.</summary>
    public static byte[] Message(ushort type, byte[] body, uint? lengthOverride = null, uint sequence = 0, bool pad = true)
    {
        var length = 16 + body.Length;
        var bytes = new byte[pad ? Align(length) : length];
        var declared = lengthOverride ?? (uint)length;
        MemoryMarshal.Write(bytes, in declared);
        MemoryMarshal.Write(bytes.AsSpan(4), in type);
        MemoryMarshal.Write(bytes.AsSpan(8), in sequence);
        body.CopyTo(bytes, 16);
        return bytes;
    }

    public static byte[] Datagram(params byte[][] messages) => messages.SelectMany(m => m).ToArray();

    private static int Align(int length) => (length + 3) & ~3;
}
