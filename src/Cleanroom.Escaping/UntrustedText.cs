using System.Globalization;
using System.Text;

namespace Cleanroom.Escaping;

/// <summary>
/// Makes text from a hostile source (a guest's exit message or console, a registry's media type, a tar entry name, a
/// policy file's key) safe to store, log and print: every control character (newlines and escape sequences included)
/// and every invisible format character (bidirectional overrides among them) is written as a visible escape such as
/// <c>\n</c>, <c>\x1b</c> or <c>\u202e</c>, so the text cannot start a new log line, forge a <c>key: value</c> field,
/// reorder or drive a terminal; and it is cut to a bounded length, saying how much was cut.
/// </summary>
public static class UntrustedText
{
    /// <summary>The default bound: enough for an error message, far less than a flood.</summary>
    public const int DefaultMaxLength = 1024;

    public static string Escape(string text, int maxLength = DefaultMaxLength)
    {
        ArgumentNullException.ThrowIfNull(text);
        var builder = new StringBuilder(Math.Min(text.Length, maxLength) + 16);
        var taken = 0;
        for (; taken < text.Length && builder.Length < maxLength; taken++)
        {
            var c = text[taken];
            if (c == '\n')
            {
                builder.Append("\\n");
            }
            else if (c == '\t')
            {
                builder.Append("\\t");
            }
            else if (c == '\\')
            {
                builder.Append("\\\\");
            }
            else if (char.IsSurrogate(c) && !IsPairedSurrogate(text, taken) && FileNameBytes.IsEscapedByte(c, out var raw))
            {
                // A file name's byte that is not UTF-8 (see FileNameBytes) shows as the byte it is.
                builder.Append(CultureInfo.InvariantCulture, $"\\x{raw:x2}");
            }
            else if (char.IsControl(c) || IsInvisibleFormat(c) || char.IsSurrogate(c) && !IsPairedSurrogate(text, taken))
            {
                builder.Append(c <= 0xff ? $"\\x{(int)c:x2}" : $"\\u{(int)c:x4}");
            }
            else
            {
                builder.Append(c);
            }
        }

        if (taken < text.Length)
        {
            builder.Append(CultureInfo.InvariantCulture, $"…({text.Length - taken} more characters)");
        }

        return builder.ToString();
    }

    /// <summary>The escaped text in single quotes, for naming a hostile value inside a sentence.</summary>
    public static string Quote(string text, int maxLength = 200) => "'" + Escape(text, maxLength) + "'";

    /// <summary>Decodes bytes as UTF-8 (invalid sequences replaced) and escapes the result.</summary>
    public static string Escape(ReadOnlySpan<byte> bytes, int maxLength = DefaultMaxLength) =>
        Escape(Encoding.UTF8.GetString(bytes), maxLength);

    // Format characters are invisible: bidirectional embeddings, overrides and isolates reorder what a terminal shows
    // (the "Trojan Source" trick), zero-width ones hide text.
    private static bool IsInvisibleFormat(char c) => !char.IsSurrogate(c) && CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.Format;

    private static bool IsPairedSurrogate(string text, int index) =>
        char.IsHighSurrogate(text[index])
            ? index + 1 < text.Length && char.IsLowSurrogate(text[index + 1])
            : index > 0 && char.IsHighSurrogate(text[index - 1]);
}
