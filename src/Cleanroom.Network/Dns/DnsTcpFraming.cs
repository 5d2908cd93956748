using System.Buffers.Binary;

namespace Cleanroom.Network.Dns;

/// <summary>DNS over TCP framing: each message preceded by its length as two bytes (RFC 1035 §4.2.2).</summary>
internal static class DnsTcpFraming
{
    /// <summary>
    /// Reads one message; null when the stream ends before or inside it, or it is empty or longer than
    /// <paramref name="maxLength"/> (the stream is then out of step and must be closed).
    /// </summary>
    public static async Task<byte[]?> ReadAsync(Stream stream, int maxLength, CancellationToken ct)
    {
        var prefix = new byte[2];
        if (await stream.ReadAtLeastAsync(prefix, 2, throwOnEndOfStream: false, ct) < 2)
        {
            return null;
        }

        var length = BinaryPrimitives.ReadUInt16BigEndian(prefix);
        if (length == 0 || length > maxLength)
        {
            return null;
        }

        var message = new byte[length];
        return await stream.ReadAtLeastAsync(message, length, throwOnEndOfStream: false, ct) == length ? message : null;
    }

    /// <summary>Writes one message with its length prefix in a single write.</summary>
    public static async Task WriteAsync(Stream stream, byte[] message, CancellationToken ct)
    {
        var framed = new byte[message.Length + 2];
        BinaryPrimitives.WriteUInt16BigEndian(framed, checked((ushort)message.Length));
        message.CopyTo(framed, 2);
        await stream.WriteAsync(framed, ct);
    }
}
