using System.Globalization;
using System.Text;

namespace Cleanroom.Oci;

/// <summary>
/// Text chosen by a registry, an archive or a layer (a tar entry name, a JSON parser's message quoting a property
/// name) made safe for one line of an error or a log: control characters and bidirectional overrides are shown as
/// <c>\xNN</c> / <c>\uNNNN</c>, so escape sequences cannot drive a terminal and newlines cannot forge log lines, and
/// very long text is cut.
/// </summary>
public static class UntrustedText
{
    public const int MaxShownChars = 200;

    /// <summary>The text in single quotes, escaped.</summary>
    public static string Quote(string text) => "'" + Escape(text) + "'";

    public static string Escape(string text)
    {
        var shown = text.AsSpan(0, Math.Min(text.Length, MaxShownChars));
        var builder = new StringBuilder(shown.Length + 16);
        foreach (var c in shown)
        {
            if (c < 0x100 && char.IsControl(c))
            {
                builder.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
            }
            else if (char.IsControl(c) || c is >= '\u202a' and <= '\u202e' or >= '\u2066' and <= '\u2069')
            {
                // Bidirectional overrides reorder what a terminal shows: as misleading as an escape sequence.
                builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
            }
            else
            {
                builder.Append(c);
            }
        }

        return text.Length > MaxShownChars ? builder.Append("...").ToString() : builder.ToString();
    }
}
