using System.Globalization;
using System.Text.RegularExpressions;

namespace Cleanroom.Policy.Text;

/// <summary>
/// Sizes such as <c>8GiB</c>: a whole number and a unit. Binary units (KiB, MiB, GiB, TiB) are powers of 1024,
/// decimal units (kB/KB, MB, GB, TB) powers of 1000, B is bytes. A bare number is refused because nobody can tell
/// whether <c>memory: 8</c> means bytes or gigabytes.
/// </summary>
public static partial class ByteSize
{
    private static readonly (string Unit, long Factor)[] Units =
    [
        ("B", 1),
        ("kB", 1000), ("KB", 1000), ("MB", 1000 * 1000), ("GB", 1000L * 1000 * 1000), ("TB", 1000L * 1000 * 1000 * 1000),
        ("KiB", 1L << 10), ("MiB", 1L << 20), ("GiB", 1L << 30), ("TiB", 1L << 40),
    ];

    public const string Expected = "a whole number with a unit, such as 512MiB, 8GiB or 16GB";

    public static bool TryParse(string text, out long bytes)
    {
        bytes = 0;
        var match = SizePattern().Match(text.Trim());
        if (!match.Success)
        {
            return false;
        }

        var unit = match.Groups["unit"].Value;
        var factor = Array.Find(Units, u => u.Unit == unit).Factor;
        if (factor == 0 || !long.TryParse(match.Groups["number"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            return false;
        }

        try
        {
            bytes = checked(number * factor);
            return true;
        }
        catch (OverflowException)
        {
            return false;
        }
    }

    /// <summary>The canonical spelling: the largest binary unit that divides the size exactly.</summary>
    public static string Format(long bytes)
    {
        foreach (var (unit, shift) in new[] { ("TiB", 40), ("GiB", 30), ("MiB", 20), ("KiB", 10) })
        {
            var factor = 1L << shift;
            if (bytes != 0 && bytes % factor == 0)
            {
                return (bytes / factor).ToString(CultureInfo.InvariantCulture) + unit;
            }
        }

        return bytes.ToString(CultureInfo.InvariantCulture) + "B";
    }

    [GeneratedRegex(@"^(?<number>[0-9]{1,16}) ?(?<unit>[KMGT]iB|[kKMGT]B|B)$", RegexOptions.CultureInvariant)]
    private static partial Regex SizePattern();
}
