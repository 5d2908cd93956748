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
