using System.Buffers.Binary;
using System.Text;

namespace Cleanroom.Network.Tests.Guard.Support;

/// <summary>Hand-built TLS ClientHello bytes (RFC 8446 §4.1.2, RFC 6066 §3), whole or cut into records.</summary>
internal static class TlsBytes
{
    /// <summary>A ClientHello body with the given extensions (type, data); null leaves the extensions block out.</summary>
    public static byte[] ClientHelloBody(IEnumerable<(ushort Type, byte[] Data)>? extensions)
    {
        var body = new List<byte>();
        body.AddRange([3, 3]);
        body.AddRange(new byte[32]);
        body.Add(32);
        body.AddRange(Enumerable.Repeat((byte)7, 32));
        body.AddRange([0, 4, 0x13, 0x01, 0x13, 0x02]);
        body.AddRange([1, 0]);
        if (extensions is not null)
        {
            var block = extensions.SelectMany(e => U16(e.Type).Concat(U16(e.Data.Length)).Concat(e.Data)).ToArray();
            body.AddRange(U16(block.Length));
            body.AddRange(block);
        }

        return [.. body];
    }

    /// <summary>The server_name extension's data holding one host_name.</summary>
    public static byte[] ServerName(string name) => ServerNameEntries((0, Encoding.ASCII.GetBytes(name)));

    public static byte[] ServerNameEntries(params (byte Type, byte[] Name)[] entries)
    {
        var list = entries.SelectMany(e => new[] { e.Type }.Concat(U16(e.Name.Length)).Concat(e.Name)).ToArray();
        return [.. U16(list.Length), .. list];
    }

    /// <summary>A handshake message (type 1) around a body.</summary>
    public static byte[] Handshake(byte[] body, byte type = 1) =>
        [type, (byte)(body.Length >> 16), (byte)(body.Length >> 8), (byte)body.Length, .. body];

    /// <summary>The handshake cut into records of at most <paramref name="fragment"/> bytes.</summary>
    public static byte[] Records(byte[] handshake, int fragment = 16384) =>
        [.. handshake.Chunk(fragment).SelectMany(chunk => new byte[] { 22, 3, 1 }.Concat(U16(chunk.Length)).Concat(chunk))];

    /// <summary>A complete ClientHello in one record naming <paramref name="serverName"/> (none when null).</summary>
    public static byte[] ClientHello(string? serverName, int fragment = 16384) =>
        Records(Handshake(ClientHelloBody(serverName is null ? [(10, [0, 2, 0, 29])] : [(10, [0, 2, 0, 29]), (0, ServerName(serverName))])), fragment);

    public static byte[] U16(int value)
    {
        var bytes = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(bytes, (ushort)value);
        return bytes;
    }
}
