using System.Buffers.Binary;
using Grpc.Core;

namespace Cleanroom.Daemon.Connect;

/// <summary>
/// The Connect streaming frame: one flags byte (<see cref="Compressed"/>, <see cref="EndStream"/>), a big-endian
/// 32-bit length, then that many bytes of message (or, with <see cref="EndStream"/>, the end-of-stream JSON).
/// </summary>
internal static class ConnectEnvelope
{
    private const int ChunkBytes = 64 << 10;

    public const byte Compressed = 0x01;
    public const byte EndStream = 0x02;
    private const int HeaderLength = 5;

    /// <summary>
    /// Reads one frame, or null at a clean end of the body. A length over <paramref name="maxBytes"/> is refused before
    /// any of it is read.
    /// </summary>
    public static async Task<(byte Flags, byte[] Data)?> ReadAsync(Stream body, int maxBytes, CancellationToken cancellationToken)
    {
        var header = new byte[HeaderLength];
        var got = await body.ReadAtLeastAsync(header, HeaderLength, throwOnEndOfStream: false, cancellationToken);
        if (got == 0)
        {
            return null;
        }

        if (got < HeaderLength)
        {
            throw ConnectException.InvalidArgument("the request ends inside an envelope header");
        }

        var length = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(1));
        if (length > (uint)maxBytes)
        {
            throw new ConnectException(StatusCode.ResourceExhausted, ReasonCode.RequestTooLarge, $"the request message is {length} bytes; the limit is {maxBytes}");
        }

        // The header only claims a length: memory grows with the bytes that actually arrive, so a client that announces
        // 4 MiB on many streams and then trickles costs what it sent, not what it claimed.
        using var data = new MemoryStream();
        var chunk = new byte[Math.Min(length, ChunkBytes)];
        while (data.Length < length)
        {
            var n = await body.ReadAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, length - data.Length)), cancellationToken);
            if (n == 0)
            {
                throw ConnectException.InvalidArgument("the request ends inside an enveloped message");
            }

            data.Write(chunk, 0, n);
        }

        return (header[0], data.ToArray());
    }

    /// <summary>
    /// True when <paramref name="body"/> has no more bytes. Reads one byte at most, so a client cannot make the check
    /// buffer a second message.
    /// </summary>
    public static async Task<bool> AtEndAsync(Stream body, CancellationToken cancellationToken) =>
        await body.ReadAsync(new byte[1], cancellationToken) == 0;

    public static async Task WriteAsync(Stream body, byte flags, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var header = new byte[HeaderLength];
        header[0] = flags;
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(1), (uint)data.Length);
        await body.WriteAsync(header, cancellationToken);
        await body.WriteAsync(data, cancellationToken);
        await body.FlushAsync(cancellationToken);
    }
}
