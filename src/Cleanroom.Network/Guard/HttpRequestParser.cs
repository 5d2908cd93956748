namespace Cleanroom.Network.Guard;

/// <summary>
/// Reads the host an HTTP/1.x request is for (RFC 9112): the Host header and, when the request target is in absolute
/// form (<c>GET http://h/ HTTP/1.1</c>) or authority form (<c>CONNECT h:443 HTTP/1.1</c>), the target's host too,
/// because a server must prefer the target over Host. Strict: lines end in CRLF, header names are tokens with no space
/// before the colon, no line folding, no control characters, exactly one Host. Bytes that do not start like a request
/// line are <see cref="FirstMessageKind.Other"/>; a complete first line that mentions <c>HTTP/</c> but is not an
/// HTTP/1.0 or 1.1 request line is <see cref="FirstMessageKind.Malformed"/> (HTTP/2 prior knowledge, HTTP/0.9 tricks).
/// </summary>
internal static class HttpRequestParser
{
    /// <summary>Most header lines read; a request head with more is refused.</summary>
    public const int MaxHeaders = 100;

    private const int MaxMethodLength = 32;

    public static FirstMessage Parse(ReadOnlySpan<byte> data)
    {
        // Decide "not HTTP" as early as possible, so other protocols are not held back waiting for a line end.
        var method = 0;
        while (method < data.Length && IsTokenChar(data[method]) && method <= MaxMethodLength)
        {
            method++;
        }

        if (method == data.Length && method <= MaxMethodLength)
        {
            return FirstMessage.NeedMore;
        }

        if (method == 0 || method > MaxMethodLength || data[method] != (byte)' ')
        {
            return FirstMessage.Other;
        }

        var lineEnd = data.IndexOf("\r\n"u8);
        if (lineEnd < 0)
        {
            // A bare LF ends the line for lenient servers: the bytes must not reach one unchecked.
            return data.IndexOf((byte)'\n') >= 0 ? ClassifyOddLine(data[..data.IndexOf((byte)'\n')]) : FirstMessage.NeedMore;
        }

        var line = data[..lineEnd];
        var target = line[(method + 1)..];
        var space = target.IndexOf((byte)' ');
        if (space <= 0 || target[(space + 1)..] is var version && !(version.SequenceEqual("HTTP/1.1"u8) || version.SequenceEqual("HTTP/1.0"u8)))
        {
            return ClassifyOddLine(line);
        }

        target = target[..space];
        if (ContainsControlOrSpace(target))
        {
            return FirstMessage.Malformed("an HTTP request target with control characters");
        }

        var headEnd = data.IndexOf("\r\n\r\n"u8);
        if (headEnd < 0)
        {
            return FirstMessage.NeedMore;
        }

        return ParseHead(data[..method], target, data[(lineEnd + 2)..(headEnd + 2)]);
    }

    private static FirstMessage ParseHead(ReadOnlySpan<byte> method, ReadOnlySpan<byte> target, ReadOnlySpan<byte> headers)
    {
        string? host = null;
        var count = 0;
        while (!headers.IsEmpty)
        {
            var end = headers.IndexOf("\r\n"u8);
            var line = headers[..end];
            headers = headers[(end + 2)..];
            if (++count > MaxHeaders)
            {
                return FirstMessage.Malformed("more HTTP header lines than the guard reads");
            }

            var colon = line.IndexOf((byte)':');
            if (colon <= 0 || !IsToken(line[..colon]))
            {
                return FirstMessage.Malformed("an HTTP header line that is not name: value (folded, or space before the colon)");
            }

            var value = line[(colon + 1)..].Trim(" \t"u8);
            if (ContainsControl(value))
            {
                return FirstMessage.Malformed("an HTTP header value with control characters");
            }

            if (line[..colon].Length == 4 && System.Text.Ascii.EqualsIgnoreCase(line[..colon], "host"u8))
            {
                if (host is not null)
                {
                    return FirstMessage.Malformed("more than one Host header");
                }

                host = HostName.TryFromAuthority(value) ?? string.Empty;
            }
        }

        if (string.IsNullOrEmpty(host))
        {
            return FirstMessage.Malformed(host is null ? "an HTTP request without a Host header" : "a Host header that is not a host name");
        }

        var authority = TargetAuthority(method, target, out var targetHasAuthority);
        if (targetHasAuthority && authority is null)
        {
            return FirstMessage.Malformed("an HTTP request target whose host is not a host name");
        }

        return new FirstMessage(FirstMessageKind.Http, authority is null || authority == host ? [host] : [host, authority]);
    }

    // The host of an absolute-form or authority-form target (RFC 9112 §3.2.2, §3.2.3).
    private static string? TargetAuthority(ReadOnlySpan<byte> method, ReadOnlySpan<byte> target, out bool hasAuthority)
    {
        if (method.SequenceEqual("CONNECT"u8))
        {
            hasAuthority = true;
            return HostName.TryFromAuthority(target);
        }

        var scheme = target.IndexOf("://"u8);
        hasAuthority = scheme > 0 && target[0] != (byte)'/';
        if (!hasAuthority)
        {
            return null;
        }

        var authority = target[(scheme + 3)..];
        var end = authority.IndexOfAny("/?#"u8);
        return HostName.TryFromAuthority(end < 0 ? authority : authority[..end]);
    }

    // A complete first line that is not an HTTP/1.x request line: another protocol, unless it claims to be HTTP.
    private static FirstMessage ClassifyOddLine(ReadOnlySpan<byte> line)
    {
        for (var i = 0; i + 5 <= line.Length; i++)
        {
            if (System.Text.Ascii.EqualsIgnoreCase(line.Slice(i, 5), "HTTP/"u8))
            {
                return FirstMessage.Malformed("an HTTP request line the guard cannot check");
            }
        }

        return FirstMessage.Other;
    }

    private static bool IsToken(ReadOnlySpan<byte> text)
    {
        foreach (var b in text)
        {
            if (!IsTokenChar(b))
            {
                return false;
            }
        }

        return true;
    }

    // RFC 9110 §5.6.2 tchar.
    private static bool IsTokenChar(byte b) =>
        char.IsAsciiLetterOrDigit((char)b) || b is (byte)'!' or (byte)'#' or (byte)'$' or (byte)'%' or (byte)'&' or (byte)'\''
            or (byte)'*' or (byte)'+' or (byte)'-' or (byte)'.' or (byte)'^' or (byte)'_' or (byte)'`' or (byte)'|' or (byte)'~';

    private static bool ContainsControl(ReadOnlySpan<byte> text)
    {
        foreach (var b in text)
        {
            if ((b < 0x20 && b != (byte)'\t') || b == 0x7f)
            {
                return true;
            }
        }

        return false;
    }

    private static bool ContainsControlOrSpace(ReadOnlySpan<byte> text) =>
        ContainsControl(text) || text.IndexOfAny((byte)' ', (byte)'\t') >= 0;
}
