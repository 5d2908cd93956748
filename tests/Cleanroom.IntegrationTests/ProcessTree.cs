using System.Globalization;

namespace Cleanroom.IntegrationTests;

/// <summary>What tests read about processes from /proc: who started whom (the daemon under <c>serve</c>), and who is gone.</summary>
internal static class ProcessTree
{
    /// <summary>Children of every thread of <paramref name="parent"/> (a task's own children file lists only its thread's).</summary>
    public static List<int> ChildrenOf(int parent) =>
        Directory.EnumerateDirectories("/proc")
            .Select(d => int.TryParse(Path.GetFileName(d), out var pid) ? pid : 0)
            .Where(pid => pid > 0 && Stat(pid) is { } stat && int.Parse(stat.Split(' ')[1], CultureInfo.InvariantCulture) == parent)
            .ToList();

    /// <summary>True while the process exists and has not exited (a zombie has: only its parent's wait is missing).</summary>
    public static bool IsRunning(int pid) => Stat(pid) is { } stat && stat[0] is not ('Z' or 'X');

    /// <summary>The fields of /proc/PID/stat after the command name (state first); null once the process is gone.</summary>
    private static string? Stat(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..];
        }
        catch (IOException)
        {
            return null;
        }
    }
}
