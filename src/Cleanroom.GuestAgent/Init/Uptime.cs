using System.Globalization;

namespace Cleanroom.GuestAgent.Init;

/// <summary>Seconds since the kernel booted, from /proc/uptime (what the boot timing figures use).</summary>
internal static class Uptime
{
    public static string Read()
    {
        try
        {
            var text = File.ReadAllText("/proc/uptime");
            var first = text.Split(' ', 2)[0];
            return double.TryParse(first, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds)
                ? seconds.ToString("0.00", CultureInfo.InvariantCulture) + " s"
                : "?";
        }
        catch (IOException)
        {
            return "?";
        }
    }
}
