using System.Globalization;
using System.Text;

namespace Cleanroom.Oci;

/// <summary>
/// Text that may carry registry- or archive-chosen characters (a JSON parser's message quoting a property name, say)
/// made safe for one line of an error or a log: control characters become <c>\uXXXX</c>, and the length is bounded.
/// </summary>
public static class UntrustedText
{
    public const int MaxLength = 300;

    public static string Escape(string text)
    {
        var builder = new StringBuilder(Math.Min(text.Length, MaxLength) + 8);
        foreach (var c in text)
        {
            if (builder.Length >= MaxLength)
            {
                return builder.Append('…').ToString();
            }

            // Bidirectional overrides reorder what a terminal shows; they are as misleading as escapes.
            if (char.IsControl(c) || c is >= '\u202a' and <= '\u202e' or >= '\u2066' and <= '\u2069')
            {
                builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }
}
