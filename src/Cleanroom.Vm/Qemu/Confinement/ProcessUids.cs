using System.Globalization;

namespace Cleanroom.Vm.Qemu.Confinement;

/// <summary>Which uids own processes on this host, read from /proc.</summary>
internal static class ProcessUids
{
    /// <summary>True if any process has <paramref name="uid"/> as its real, effective, saved or file-system uid.</summary>
    public static bool AnyProcessRunsAs(int uid)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            var name = Path.GetFileName(dir);
            if (name.Length == 0 || !char.IsAsciiDigit(name[0]))
            {
                continue;
            }

            string status;
            try
            {
                status = File.ReadAllText(Path.Combine(dir, "status"));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                continue; // Exited meanwhile.
            }

            if (ParseUids(status).Contains(uid))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The real uid of process <paramref name="pid"/>; null when it is gone or unreadable.</summary>
    public static int? RealUidOf(int pid)
    {
        try
        {
            return ParseUids(File.ReadAllText($"/proc/{pid}/status")) is [var real, ..] ? real : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The four numbers of the "Uid:" line of /proc/&lt;pid&gt;/status; empty if there is none.</summary>
    internal static IReadOnlyList<int> ParseUids(string status)
    {
        foreach (var line in status.Split('\n'))
        {
            if (line.StartsWith("Uid:", StringComparison.Ordinal))
            {
                return [.. line[4..].Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries)
                    .Select(f => int.TryParse(f, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : -1)
                    .Where(v => v >= 0)];
            }
        }

        return [];
    }
}
