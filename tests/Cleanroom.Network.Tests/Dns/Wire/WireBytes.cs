using System.Buffers.Binary;
using System.Text;

namespace Cleanroom.Network.Tests.Dns.Wire;

/// <summary>Hand-built DNS messages for codec tests, hostile ones included: every byte is the test's choice.</summary>
internal static class WireBytes
{
    public static byte[] Header(ushort id = 0x1234, ushort flags = 0x0100, ushort qd = 1, ushort an = 0, ushort ns = 0, ushort ar = 0)
    {
        var header = new byte[12];
        BinaryPrimitives.WriteUInt16BigEndian(header, id);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(2), flags);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(4), qd);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(6), an);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(8), ns);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(10), ar);
        return header;
    }

    /// <summary>An uncompressed name: "a.b" → 1 'a' 1 'b' 0.</summary>
    public static byte[] Name(string dotted)
    {
        var bytes = new List<byte>();
        foreach (var label in dotted.Split('.', StringSplitOptions.RemoveEmptyEntries))
        {
            bytes.Add((byte)label.Length);
            bytes.AddRange(Encoding.ASCII.GetBytes(label));
        }

        bytes.Add(0);
        return [.. bytes];
    }

    public static byte[] UInt16(int value) => [(byte)(value >> 8), (byte)value];

    public static byte[] UInt32(uint value) => [(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value];

    public static byte[] Pointer(int offset) => [(byte)(0xC0 | (offset >> 8)), (byte)offset];

    /// <summary>A question section entry: name, type, class IN.</summary>
    public static byte[] Question(string name, int type = 1) => Concat(Name(name), UInt16(type), UInt16(1));

    /// <summary>A resource record with the given owner bytes (possibly a pointer) and record data.</summary>
    public static byte[] Record(byte[] owner, int type, uint ttl, byte[] data, int @class = 1) =>
        Concat(owner, UInt16(type), UInt16(@class), UInt32(ttl), UInt16(data.Length), data);

    public static byte[] Opt(int udpSize = 1232, byte[]? options = null) =>
        Concat([0], UInt16(41), UInt16(udpSize), UInt32(0), UInt16(options?.Length ?? 0), options ?? []);

    public static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(p => p)];
}
