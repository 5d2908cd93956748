using System.Globalization;

namespace Cleanroom.Daemon.Admission;

/// <summary>Sizes for people: the largest binary unit with one decimal, e.g. <c>1.5 GiB</c>.</summary>
public static class HumanSize
{
    public static string Format(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
        double value = bytes;
        var unit = 0;
        while (Math.Abs(value) >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return unit == 0 ? $"{bytes} B" : value.ToString(value % 1 == 0 ? "0" : "0.0", CultureInfo.InvariantCulture) + " " + units[unit];
    }
}
