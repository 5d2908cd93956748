namespace Cleanroom.HostProcesses;

/// <summary>Finds executables the way a shell would, without running one.</summary>
public static class ExecutableSearch
{
    /// <summary>First executable named <paramref name="name"/> in <paramref name="pathVariable"/> (colon-separated), or null.</summary>
    public static string? FindOnPath(string name, string? pathVariable)
    {
        if (name.Contains('/', StringComparison.Ordinal))
        {
            return IsExecutable(name) ? Path.GetFullPath(name) : null;
        }

        foreach (var dir in (pathVariable ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, name);
            if (IsExecutable(candidate))
            {
                return Path.GetFullPath(candidate);
            }
        }

        return null;
    }

    /// <summary>True for an existing regular file with any execute bit set.</summary>
    public static bool IsExecutable(string path)
    {
        if (!File.Exists(path))
        {
            return false;
        }

        if (OperatingSystem.IsWindows())
        {
            return true; // Never taken: VMs run on Linux. Keeps the analyzer honest without marking callers Linux-only.
        }

        const UnixFileMode anyExecute = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
        return (File.GetUnixFileMode(path) & anyExecute) != 0;
    }
}
