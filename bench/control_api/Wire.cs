using System.Buffers.Binary;
using System.Net.Http.Headers;

namespace Cleanroom.ControlApi.Bench;

/// <summary>The enveloped messages of Connect streams and gRPC-Web: flags, big-endian length, data.</summary>
internal static class Wire
{
    /// <summary>Connect's end-of-stream frame.</summary>
    public const byte ConnectEndStream = 0x02;

    /// <summary>gRPC-Web's trailers frame.</summary>
    public const byte GrpcWebTrailers = 0x80;

    public static byte[] Envelope(ReadOnlySpan<byte> data)
    {
        var frame = new byte[5 + data.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)data.Length);
        data.CopyTo(frame.AsSpan(5));
        return frame;
    }

    public static HttpRequestMessage Post(string path, string contentType, byte[] body, string header, string value)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        request.Headers.TryAddWithoutValidation(header, value);
        return request;
    }

    /// <summary>The next frame, or null at the end of the body.</summary>
    public static async Task<(byte Flags, byte[] Data)?> ReadFrameAsync(Stream body, byte[] header)
    {
        var got = await body.ReadAtLeastAsync(header.AsMemory(0, 5), 5, throwOnEndOfStream: false);
        if (got == 0)
        {
            return null;
        }

        if (got < 5)
        {
            throw new InvalidDataException("the body ended inside a frame header");
        }

        var data = new byte[BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(1))];
        await body.ReadExactlyAsync(data);
        return (header[0], data);
    }
}
