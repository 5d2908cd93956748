using System.Globalization;
using Cleanroom.Escaping;

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

        return UntrustedText.Escape(text, maxLength);
    }

    private static bool NeedsEscape(char c) =>
        char.IsControl(c) || CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.Format;
}
