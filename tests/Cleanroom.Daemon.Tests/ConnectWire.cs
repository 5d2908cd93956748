using System.Buffers.Binary;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Cleanroom.Daemon.Tests.Fakes;

namespace Cleanroom.Daemon.Tests;

/// <summary>The client side of the Connect and gRPC-Web wire formats, written from the protocol text for the tests.</summary>
internal static class ConnectWire
{
    public static HttpRequestMessage Post(string path, string contentType, byte[] body, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        foreach (var (name, value) in headers)
        {
            if (!request.Headers.TryAddWithoutValidation(name, value))
            {
                request.Content.Headers.TryAddWithoutValidation(name, value); // Content-Encoding and the like
            }
        }

        return request;
    }

    public static HttpRequestMessage PostJson(string path, string json, params (string Name, string Value)[] headers) =>
        Post(path, "application/json", Encoding.UTF8.GetBytes(json), headers);

    /// <summary>One enveloped message: flags, big-endian length, data.</summary>
    public static byte[] Envelope(byte flags, byte[] data)
    {
        var frame = new byte[5 + data.Length];
        frame[0] = flags;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)data.Length);
        data.CopyTo(frame, 5);
        return frame;
    }

    /// <summary>Reads the next frame, or null at the end of the body.</summary>
    public static async Task<(byte Flags, byte[] Data)?> ReadFrameAsync(Stream body)
    {
        var header = new byte[5];
        var got = await body.ReadAtLeastAsync(header, 5, throwOnEndOfStream: false).AsTask().WaitAsync(Waits.Bound);
        if (got == 0)
        {
            return null;
        }

        Assert.Equal(5, got);
        var data = new byte[BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(1))];
        await body.ReadExactlyAsync(data).AsTask().WaitAsync(Waits.Bound);
        return (header[0], data);
    }

    /// <summary>All frames to the end of the body.</summary>
    public static async Task<List<(byte Flags, byte[] Data)>> ReadAllFramesAsync(HttpResponseMessage response)
    {
        await using var body = await response.Content.ReadAsStreamAsync();
        var frames = new List<(byte, byte[])>();
        while (await ReadFrameAsync(body) is { } frame)
        {
            frames.Add(frame);
        }

        return frames;
    }

    /// <summary>A Connect error object: its code, message and the reason from its cleanroom.v1.ErrorReason detail.</summary>
    public static (string Code, string Message, string Reason) Error(JsonElement error)
    {
        var detail = Assert.Single(error.GetProperty("details").EnumerateArray());
        Assert.Equal("cleanroom.v1.ErrorReason", detail.GetProperty("type").GetString());
        var value = detail.GetProperty("value").GetString()!;
        var reason = Api.V1.ErrorReason.Parser.ParseFrom(Convert.FromBase64String(value.PadRight((value.Length + 3) / 4 * 4, '='))).Reason;
        Assert.Equal(reason, detail.GetProperty("debug").GetProperty("reason").GetString());
        return (error.GetProperty("code").GetString()!, error.GetProperty("message").GetString()!, reason);
    }

    public static async Task<(string Code, string Message, string Reason)> UnaryErrorAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return Error(json.RootElement);
    }
}
