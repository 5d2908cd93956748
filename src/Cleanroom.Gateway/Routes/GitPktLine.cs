using System.Text;

namespace Cleanroom.Gateway.Routes;

/// <summary>Reads just enough of an upload-pack request body (git pkt-lines) to classify it.</summary>
internal static class GitPktLine
{
    /// <summary>
    /// Classifies a request: protocol v2 (per <c>Git-Protocol: version=2</c>) by its <c>command=</c> line, v0/v1 by
    /// whether it starts with <c>want</c>.
    /// </summary>
    public static GitRequestKind Classify(ReadOnlySpan<byte> body, string gitProtocol)
    {
        var first = FirstLine(body);
        if (first is null)
        {
            return GitRequestKind.Other;
        }

        var isV2 = gitProtocol.Split(':').Any(p => p.Trim() == "version=2");
        if (isV2)
        {
            return first switch
            {
                "command=fetch" => GitRequestKind.Pack,
                "command=ls-refs" => GitRequestKind.Refs,
                _ => GitRequestKind.Other,
            };
        }

        return first.StartsWith("want ", StringComparison.Ordinal) ? GitRequestKind.Pack : GitRequestKind.Other;
    }

    /// <summary>
    /// The object ids an upload-pack request wants (<c>want OID</c> lines, v0/v1 and v2 alike), or null when the body
    /// is not well-formed pkt-lines, a want names no valid object id, or there are more than <paramref name="max"/>.
    /// </summary>
    public static List<string>? Wants(ReadOnlySpan<byte> body, int max)
    {
        var wants = new List<string>();
        var at = 0;
        while (at < body.Length)
        {
            if (body.Length - at < 4
                || !int.TryParse(Encoding.ASCII.GetString(body.Slice(at, 4)), System.Globalization.NumberStyles.AllowHexSpecifier, null, out var length))
            {
                return null;
            }

            if (length < 4)
            {
                // flush, delim, response-end: markers without payload.
                at += 4;
                continue;
            }

            if (length > body.Length - at)
            {
                return null;
            }

            var line = Encoding.ASCII.GetString(body.Slice(at + 4, length - 4)).TrimEnd('\n');
            at += length;
            if (!line.StartsWith("want ", StringComparison.Ordinal))
            {
                continue;
            }

            var id = line.Split(' ')[1];
            if (id.Length is not (40 or 64) || !id.All(c => char.IsAsciiHexDigitLower(c) || char.IsAsciiDigit(c)) || wants.Count >= max)
            {
                return null;
            }

            wants.Add(id);
        }

        return wants;
    }

    /// <summary>The first pkt-line's payload without its trailing newline, or null when there is none.</summary>
    private static string? FirstLine(ReadOnlySpan<byte> body)
    {
        if (body.Length < 4)
        {
            return null;
        }

        if (!int.TryParse(Encoding.ASCII.GetString(body[..4]), System.Globalization.NumberStyles.HexNumber, null, out var length)
            || length < 5 || length > body.Length)
        {
            return null;
        }

        return Encoding.UTF8.GetString(body[4..length]).TrimEnd('\n');
    }
}
