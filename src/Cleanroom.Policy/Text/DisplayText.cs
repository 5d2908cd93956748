using System.Globalization;
using System.Text;

namespace Cleanroom.Policy.Text;

/// <summary>
/// Makes text from a policy file safe to print on a terminal: control characters (escape sequences, carriage
/// returns, C1 controls) and invisible format characters (bidirectional overrides) become visible escapes, and
/// long text is cut, so a hostile file can neither rewrite the screen nor flood it.
/// </summary>
internal static class DisplayText
{
    public static string Escape(string text, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length <= maxLength && !text.Any(NeedsEscape))
        {
            return text;
        }

        var shown = new StringBuilder(Math.Min(text.Length, maxLength) + 16);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (i >= maxLength && !(char.IsLowSurrogate(c) && i == maxLength))
            {
                return shown.Append('…').ToString();
            }

            shown.Append(c switch
            {
                '\n' => "\\n",
                '\t' => "\\t",
                '\r' => "\\r",
                _ when NeedsEscape(c) => "\\u" + ((int)c).ToString("x4", CultureInfo.InvariantCulture),
                _ => c.ToString(),
            });
        }

        return shown.ToString();
    }

    private static bool NeedsEscape(char c) =>
        char.IsControl(c) || CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.Format;
}
