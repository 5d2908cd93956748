using System.Globalization;
using Grpc.Core;
using Microsoft.AspNetCore.Http;

namespace Cleanroom.Daemon.Connect;

/// <summary>What the headers of a Connect request say: codec, unary or streaming, and the deadline.</summary>
internal sealed record ConnectRequest(ConnectCodec Codec, bool Streaming, TimeSpan? Timeout)
{
    /// <summary>The content types served, for the 415 answer's Accept-Post.</summary>
    public const string Accepted = "application/json, application/proto, application/connect+json, application/connect+proto";

    private const int MaxTimeoutDigits = 10;

    /// <summary>The codec and shape of a content type, or null when it is none of Connect's.</summary>
    public static (ConnectCodec Codec, bool Streaming)? Classify(string contentType)
    {
        var semicolon = contentType.IndexOf(';', StringComparison.Ordinal);
        var mediaType = (semicolon < 0 ? contentType : contentType[..semicolon]).Trim().ToLowerInvariant();
        if (semicolon >= 0 && !IsUtf8Charset(contentType[(semicolon + 1)..]))
        {
            return null;
        }

        return mediaType switch
        {
            "application/proto" => (ConnectCodec.Proto, false),
            "application/json" => (ConnectCodec.Json, false),
            "application/connect+proto" => (ConnectCodec.Proto, true),
            "application/connect+json" => (ConnectCodec.Json, true),
            _ => null,
        };
    }

    /// <summary>Reads the protocol headers; a value this server cannot honour is refused with the reason.</summary>
    public static ConnectRequest Read(HttpRequest request, ConnectCodec codec, bool streaming)
    {
        var version = request.Headers["Connect-Protocol-Version"].ToString();
        if (version.Length > 0 && version != "1")
        {
            throw ConnectException.InvalidArgument("Connect-Protocol-Version must be 1");
        }

        var encoding = request.Headers[streaming ? "Connect-Content-Encoding" : "Content-Encoding"].ToString();
        if (encoding.Length > 0 && !string.Equals(encoding, "identity", StringComparison.OrdinalIgnoreCase))
        {
            throw new ConnectException(StatusCode.Unimplemented, ReasonCode.InvalidRequest, "this server accepts uncompressed requests only (identity)");
        }

        return new ConnectRequest(codec, streaming, ParseTimeout(request.Headers["Connect-Timeout-Ms"].ToString()));
    }

    private static TimeSpan? ParseTimeout(string value)
    {
        if (value.Length == 0)
        {
            return null;
        }

        if (value.Length > MaxTimeoutDigits || !value.All(char.IsAsciiDigit) || !long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var ms) || ms == 0)
        {
            throw ConnectException.InvalidArgument("Connect-Timeout-Ms must be a positive whole number of milliseconds of at most 10 digits");
        }

        return TimeSpan.FromMilliseconds(ms);
    }

    private static bool IsUtf8Charset(string parameters)
    {
        var parameter = parameters.Trim();
        return parameter.Length == 0 || string.Equals(parameter.Replace(" ", "", StringComparison.Ordinal), "charset=utf-8", StringComparison.OrdinalIgnoreCase);
    }
}
