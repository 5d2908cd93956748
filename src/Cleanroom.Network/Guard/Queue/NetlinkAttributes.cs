using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Cleanroom.Network.Nflog;

namespace Cleanroom.Network.Guard.Queue;

/// <summary>Encodes netlink attributes as bytes, for nesting them inside another attribute.</summary>
internal static class NetlinkAttributes
{
    /// <summary>NLA_F_NESTED: the attribute's value is itself a list of attributes.</summary>
    public const ushort Nested = 0x8000;

    public static byte[] Encode(ushort type, ReadOnlySpan<byte> value)
    {
        var length = checked((ushort)(NetlinkFormat.AttributeHeaderLength + value.Length));
        var bytes = new byte[NetlinkFormat.Align(length)];
        MemoryMarshal.Write(bytes, in length);
        MemoryMarshal.Write(bytes.AsSpan(2), in type);
        value.CopyTo(bytes.AsSpan(NetlinkFormat.AttributeHeaderLength));
        return bytes;
    }

    public static byte[] Nest(ushort type, params byte[][] children) => Encode((ushort)(type | Nested), [.. children.SelectMany(c => c)]);

    public static byte[] BigEndian32(ushort type, uint value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return Encode(type, bytes);
    }

    public static byte[] BigEndian16(ushort type, ushort value)
    {
        Span<byte> bytes = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(bytes, value);
        return Encode(type, bytes);
    }

    /// <summary>A NUL-terminated string attribute.</summary>
    public static byte[] Text(ushort type, string value) => Encode(type, [.. System.Text.Encoding.ASCII.GetBytes(value), 0]);
}
