using System.Text;

namespace Cleanroom.Images.Layers;

/// <summary>
/// Makes text taken from a layer safe for error messages. It is attacker-chosen: control characters (terminal
/// escapes, newlines that forge log lines) are shown as \xNN, and very long text is cut.
/// </summary>
internal static class Printable
{
    private const int MaxShownChars = 200;

    /// <summary>The text in single quotes, escaped.</summary>
    public static string Quote(string text) => "'" + Escape(text) + "'";

    public static string Escape(string text)
    {
        var shown = text.AsSpan(0, Math.Min(text.Length, MaxShownChars));
        if (!shown.ContainsAnyInRange('\0', '\u001f') && !shown.Contains('\u007f') && text.Length <= MaxShownChars)
        {
            return text;
        }

        var builder = new StringBuilder(shown.Length + 16);
        foreach (var c in shown)
        {
            if (char.IsControl(c))
            {
                builder.Append("\\x").Append(((int)c).ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
            }
            else
            {
                builder.Append(c);
            }
        }

        return text.Length > MaxShownChars ? builder.Append("...").ToString() : builder.ToString();
    }
}
