using System.Buffers.Text;
using System.Globalization;
using System.Text;
using Cleanroom.Escaping;
using Grpc.Core;
using Microsoft.AspNetCore.Http;

namespace Cleanroom.Daemon.Connect;

/// <summary>
/// What a Connect request says about itself: codec, unary or streaming, the deadline, whether its message is gzipped
/// and whether the client accepts a gzipped response. From the headers of a POST, or the query of a GET.
/// </summary>
internal sealed record ConnectRequest(ConnectCodec Codec, bool Streaming, TimeSpan? Timeout, bool RequestGzip = false, bool ResponseGzip = false)
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

    /// <summary>Reads the protocol headers of a POST; a value this server cannot honour is refused with the reason.</summary>
    public static ConnectRequest Read(HttpRequest request, ConnectCodec codec, bool streaming)
    {
        var version = request.Headers["Connect-Protocol-Version"].ToString();
        if (version.Length > 0 && version != "1")
        {
            throw ConnectException.InvalidArgument("Connect-Protocol-Version must be 1");
        }

        var (contentEncoding, acceptEncoding) = streaming ? ("Connect-Content-Encoding", "Connect-Accept-Encoding") : ("Content-Encoding", "Accept-Encoding");
        request.HttpContext.Response.Headers[acceptEncoding] = ConnectCompression.Gzip;
        var gzip = ConnectCompression.IsGzip(request.Headers[contentEncoding].ToString(), contentEncoding);
        return new ConnectRequest(codec, streaming, ParseTimeout(request.Headers["Connect-Timeout-Ms"].ToString()), gzip, ConnectCompression.Accepts(request.Headers[acceptEncoding].ToString()));
    }

    /// <summary>
    /// Reads a unary GET (<c>?connect=v1&amp;encoding=json&amp;message=...</c>, with <c>base64=1</c> for binary messages and
    /// <c>compression=gzip</c> for a gzipped one): the request and the message's bytes, still compressed if it is.
    /// </summary>
    public static (ConnectRequest Request, byte[] Message) ReadGet(HttpRequest request)
    {
        request.HttpContext.Response.Headers.AcceptEncoding = ConnectCompression.Gzip;
        var query = Query(request.QueryString.Value ?? "");
        if (query.TryGetValue("connect", out var version) && version != "v1")
        {
            throw ConnectException.InvalidArgument("the connect query parameter must be v1");
        }

        var codec = query.TryGetValue("encoding", out var encoding)
            ? encoding switch
            {
                "proto" => ConnectCodec.Proto,
                "json" => ConnectCodec.Json,
                _ => throw ConnectException.InvalidArgument($"the encoding query parameter must be proto or json, not {UntrustedText.Quote(encoding)}"),
            }
            : throw ConnectException.InvalidArgument("a GET call needs the encoding query parameter (proto or json)");
        if (!query.TryGetValue("message", out var text))
        {
            throw ConnectException.InvalidArgument("a GET call needs the message query parameter (the request message, percent-encoded or with base64=1 in base64url)");
        }

        var base64 = query.TryGetValue("base64", out var flag) && flag switch
        {
            "1" => true,
            "0" => false,
            _ => throw ConnectException.InvalidArgument("the base64 query parameter must be 1 (or 0)"),
        };
        var gzip = ConnectCompression.IsGzip(query.GetValueOrDefault("compression", ""), "the compression query parameter");
        var message = Encoding.Latin1.GetBytes(text);
        if (base64)
        {
            try
            {
                // URL-safe base64 as the protocol writes it, padded or not; the standard alphabet's + and / are taken too.
                message = Base64Url.DecodeFromUtf8(message.Select(b => b switch { (byte)'+' => (byte)'-', (byte)'/' => (byte)'_', _ => b }).ToArray());
            }
            catch (FormatException)
            {
                throw ConnectException.InvalidArgument("the message query parameter is not base64url");
            }
        }

        return (new ConnectRequest(codec, Streaming: false, ParseTimeout(request.Headers["Connect-Timeout-Ms"].ToString()), gzip, ConnectCompression.Accepts(request.Headers.AcceptEncoding.ToString())), message);
    }

    /// <summary>
    /// The query's parameters, percent-decoded to bytes (held one byte per char, so a binary message survives; names
    /// and the short values are ASCII). '+' is a space, as in a form. The last of a repeated name wins.
    /// </summary>
    private static Dictionary<string, string> Query(string raw)
    {
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in raw.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var name = Decode(equals < 0 ? pair : pair[..equals]);
            parameters[name] = equals < 0 ? "" : Decode(pair[(equals + 1)..]);
        }

        return parameters;
    }

    private static string Decode(string text)
    {
        var bytes = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '+')
            {
                bytes.Append(' ');
            }
            else if (c != '%')
            {
                bytes.Append(c);
            }
            else if (i + 2 < text.Length && byte.TryParse(text.AsSpan(i + 1, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var b))
            {
                bytes.Append((char)b);
                i += 2;
            }
            else
            {
                throw ConnectException.InvalidArgument("the query has a '%' that is not followed by two hex digits");
            }
        }

        return bytes.ToString();
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
