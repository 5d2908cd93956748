using System.Text;

namespace Cleanroom.Gateway.Server;

/// <summary>
/// A guest's request target, checked on its raw form (before any server-side decoding or dot-segment removal could
/// hide something): origin-form only, printable ASCII, well-formed %-escapes, no NUL (raw or %00), no backslash, no
/// empty segment (<c>//</c>) except a trailing slash, no <c>.</c> or <c>..</c> segment in any spelling (<c>%2e</c>).
/// Segments are kept both raw (forwarded upstream as the guest wrote them) and decoded (for routing).
/// </summary>
internal sealed class RequestTarget
{
    /// <summary>Longest raw request target accepted.</summary>
    public const int MaxLength = 4096;

    private RequestTarget(IReadOnlyList<string> raw, IReadOnlyList<string> decoded, string? query)
    {
        RawSegments = raw;
        Segments = decoded;
        Query = query;
    }

    /// <summary>The path's segments as sent (still %-encoded); a trailing slash gives a last empty segment.</summary>
    public IReadOnlyList<string> RawSegments { get; }

    /// <summary>The path's segments %-decoded.</summary>
    public IReadOnlyList<string> Segments { get; }

    /// <summary>The raw query after <c>?</c> (checked like the path), or null when there is none.</summary>
    public string? Query { get; }

    /// <summary>The raw path from segment <paramref name="start"/> on, with a leading slash.</summary>
    public string RawPathFrom(int start) => "/" + string.Join('/', RawSegments.Skip(start));

    /// <summary>Checks and splits <paramref name="raw"/>; false with a short reason (safe to show) when it is refused.</summary>
    public static bool TryParse(string raw, out RequestTarget? target, out string problem)
    {
        target = null;
        if (raw.Length > MaxLength)
        {
            problem = $"the request target is longer than {MaxLength} characters";
            return false;
        }

        if (raw.Length == 0 || raw[0] != '/')
        {
            problem = "the request target must be a path starting with '/'";
            return false;
        }

        var queryStart = raw.IndexOf('?', StringComparison.Ordinal);
        var path = queryStart < 0 ? raw : raw[..queryStart];
        var query = queryStart < 0 ? null : raw[(queryStart + 1)..];
        if (query is not null && !CheckText(query, isQuery: true, out _, out problem))
        {
            return false;
        }

        var rawSegments = path[1..].Split('/');
        var decoded = new string[rawSegments.Length];
        for (var i = 0; i < rawSegments.Length; i++)
        {
            var segment = rawSegments[i];
            if (segment.Length == 0 && i < rawSegments.Length - 1)
            {
                problem = "the path has an empty segment ('//')";
                return false;
            }

            if (!CheckText(segment, isQuery: false, out var text, out problem))
            {
                return false;
            }

            if (text is "." or "..")
            {
                problem = "the path has a '.' or '..' segment";
                return false;
            }

            decoded[i] = text;
        }

        target = new RequestTarget(rawSegments, decoded, query);
        problem = "";
        return true;
    }

    /// <summary>Validates raw characters and escapes of one segment (or the query) and decodes it.</summary>
    private static bool CheckText(string raw, bool isQuery, out string decoded, out string problem)
    {
        decoded = "";
        var bytes = new List<byte>(raw.Length);
        for (var i = 0; i < raw.Length; i++)
        {
            var c = raw[i];
            if (c is < '!' or > '~')
            {
                problem = c == '\0' ? "the request target contains NUL" : "the request target contains a control, space or non-ASCII character";
                return false;
            }

            if (c == '\\')
            {
                problem = "the request target contains a backslash";
                return false;
            }

            if (c == '#')
            {
                problem = "the request target contains a fragment ('#')";
                return false;
            }

            if (c != '%')
            {
                bytes.Add((byte)c);
                continue;
            }

            if (i + 2 >= raw.Length || !char.IsAsciiHexDigit(raw[i + 1]) || !char.IsAsciiHexDigit(raw[i + 2]))
            {
                problem = "the request target has a malformed %-escape";
                return false;
            }

            var value = (byte)Convert.ToInt32(raw.Substring(i + 1, 2), 16);
            i += 2;
            if (value == 0)
            {
                problem = "the request target contains NUL (%00)";
                return false;
            }

            if (value is < 0x20 or 0x7f)
            {
                problem = "the request target contains an encoded control character";
                return false;
            }

            if (!isQuery && value == (byte)'\\')
            {
                problem = "the path contains an encoded backslash";
                return false;
            }

            bytes.Add(value);
        }

        try
        {
            decoded = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString([.. bytes]);
        }
        catch (DecoderFallbackException)
        {
            problem = "the request target's %-escapes are not UTF-8";
            return false;
        }

        problem = "";
        return true;
    }
}
