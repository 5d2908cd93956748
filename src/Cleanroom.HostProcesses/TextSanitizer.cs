using System.Text;

namespace Cleanroom.HostProcesses;

/// <summary>
/// Makes bytes from an untrusted source (the guest console, a VMM's stderr) safe to embed in an error message or a
/// log line: lossy UTF-8, no carriage returns, no escape sequences or other control characters.
/// </summary>
public static class TextSanitizer
{
    public static string ToPrintable(ReadOnlySpan<byte> bytes) => ToPrintable(Encoding.UTF8.GetString(bytes));

    public static string ToPrintable(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            if (c is '\n' or '\t' || !char.IsControl(c))
            {
                builder.Append(c);
            }
            else if (c != '\r')
            {
                builder.Append('?');
            }
        }

        return builder.ToString();
    }

    /// <summary>The last <paramref name="maxLines"/> non-empty lines, each indented, for multi-line error messages.</summary>
    public static string LastLines(string text, int maxLines)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return string.Join('\n', lines.TakeLast(maxLines).Select(l => "  " + l));
    }
}
