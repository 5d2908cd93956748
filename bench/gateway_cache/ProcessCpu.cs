using System.Globalization;

namespace Cleanroom.Gateway.Bench;

/// <summary>
/// CPU time a process has used (user + system, every thread, living or exited), from <c>/proc/PID/stat</c>. Unlike
/// wall-clock throughput it hardly moves when other work shares the machine, so it is the figure to compare changes by.
/// </summary>
internal static class ProcessCpu
{
    // USER_HZ: the unit of utime and stime, fixed at 100 for user space on Linux whatever the kernel's HZ.
    private const double TicksPerSecond = 100;

    /// <summary>Seconds of CPU used by <paramref name="pid"/> so far.</summary>
    public static double Seconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");

        // The command name (field 2) is in parentheses and may hold spaces; the fields after it are plain numbers.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');

        // Fields 14 and 15 of the whole line (utime, stime) are 11 and 12 places after the name.
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerSecond;
    }
}
