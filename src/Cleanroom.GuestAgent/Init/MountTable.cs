using System.Text;

namespace Cleanroom.GuestAgent.Init;

/// <summary>Reads mount points out of /proc/self/mounts text (in mount order).</summary>
internal static class MountTable
{
    public static IReadOnlyList<string> ParseMountPoints(string mountsText)
    {
        ArgumentNullException.ThrowIfNull(mountsText);
        var result = new List<string>();
        foreach (var line in mountsText.Split('\n'))
        {
            var fields = line.Split(' ');
            if (fields.Length >= 2 && fields[1].Length > 0)
            {
                result.Add(Unescape(fields[1]));
            }
        }

        return result;
    }

    /// <summary>The kernel writes space, tab, newline and backslash in paths as three-digit octal escapes (\040).</summary>
    public static string Unescape(string field)
    {
        if (!field.Contains('\\', StringComparison.Ordinal))
        {
            return field;
        }

        var builder = new StringBuilder(field.Length);
        for (var i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && i + 3 < field.Length && IsOctal(field[i + 1]) && IsOctal(field[i + 2]) && IsOctal(field[i + 3]))
            {
                builder.Append((char)(((field[i + 1] - '0') * 64) + ((field[i + 2] - '0') * 8) + (field[i + 3] - '0')));
                i += 3;
            }
            else
            {
                builder.Append(field[i]);
            }
        }

        return builder.ToString();
    }

    private static bool IsOctal(char c) => c is >= '0' and <= '7';
}
