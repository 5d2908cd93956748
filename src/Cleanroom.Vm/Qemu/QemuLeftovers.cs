using System.Globalization;
using Cleanroom.HostProcesses;
using Cleanroom.Vm.Qemu.Confinement;

namespace Cleanroom.Vm.Qemu;

/// <summary>
/// Crash recovery: QEMU outlives a daemon that dies without disposing its VMs. At start-up the daemon asks the
/// backend to reap leftovers (<see cref="QemuBackend.ReapLeftoversAsync"/>, which calls <see cref="KillStale"/>) on
/// its sandboxes directory before touching any sandbox.
/// </summary>
internal static class QemuLeftovers
{
    private static readonly TimeSpan DeathTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// For every <c>&lt;sandboxesRoot&gt;/*/run/qemu.pid</c>: if the pid is a qemu-system process whose command line
    /// refers to that work directory, SIGKILL it and wait until it is gone. A pid that was reused by an unrelated
    /// process is left alone. Either way the pid file is removed, and once the process is gone so is the VM's cgroup
    /// (named after the work directory, like the sandbox). Returns one entry per pid file found.
    /// </summary>
    /// <param name="keep">Work directories (full paths) whose VMs the daemon took over: left alone.</param>
    public static IReadOnlyList<StaleQemu> KillStale(string sandboxesRoot, IReadOnlySet<string>? keep = null)
    {
        var results = new List<StaleQemu>();
        if (!Directory.Exists(sandboxesRoot))
        {
            return results;
        }

        var cgroups = new Lazy<CgroupHost>(CgroupHost.Detect);
        foreach (var workDir in Directory.EnumerateDirectories(sandboxesRoot))
        {
            var pidFile = new VmWorkDir(workDir).PidFile;
            if (!File.Exists(pidFile) || keep?.Contains(Path.GetFullPath(workDir)) == true)
            {
                continue;
            }

            var stale = Handle(Path.GetFullPath(workDir));
            results.Add(stale);
            File.Delete(pidFile);
            if (stale.Killed || !Posix.Exists(stale.Pid))
            {
                VmCgroup.RemoveDirectories(VmCgroup.DirectoriesFor(cgroups.Value, Path.GetFileName(workDir)));
            }
        }

        return results;
    }

    /// <summary>
    /// True when a NUL-separated /proc/&lt;pid&gt;/cmdline is a qemu-system binary with an argument inside
    /// <paramref name="workDir"/> (QEMU escapes commas in option values by doubling them, so compare both spellings).
    /// </summary>
    internal static bool IsQemuFor(string cmdline, string workDir)
    {
        var argv = cmdline.Split('\0', StringSplitOptions.RemoveEmptyEntries);
        if (argv.Length == 0 || !Path.GetFileName(argv[0]).StartsWith("qemu-system", StringComparison.Ordinal))
        {
            return false;
        }

        var prefixes = new[] { workDir.TrimEnd('/') + "/", QemuOption.Escape(workDir.TrimEnd('/')) + "/" };
        return argv.Skip(1).Any(arg => prefixes.Any(p => arg.Contains(p, StringComparison.Ordinal)));
    }

    /// <summary>
    /// The pid of the QEMU still running for <paramref name="workDir"/> (a full path), by its pid file and its command
    /// line; null with the reason when there is none.
    /// </summary>
    public static int? FindRunning(string workDir, out string whyNot)
    {
        var pidFile = new VmWorkDir(workDir).PidFile;
        string text;
        try
        {
            text = File.ReadAllText(pidFile);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            whyNot = "its pid file is gone";
            return null;
        }

        if (!int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid <= 1)
        {
            whyNot = "pid file unreadable";
            return null;
        }

        string cmdline;
        try
        {
            cmdline = File.ReadAllText($"/proc/{pid}/cmdline");
        }
        catch (IOException)
        {
            whyNot = "process already gone";
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            whyNot = "process not inspectable (another user)";
            return null;
        }

        if (!IsQemuFor(cmdline, workDir) || !IsAlive(pid))
        {
            whyNot = "process already gone (its pid belongs to another process now)";
            return null;
        }

        whyNot = "";
        return pid;
    }

    private static StaleQemu Handle(string workDir)
    {
        if (FindRunning(workDir, out var whyNot) is not { } pid)
        {
            return new StaleQemu(0, workDir, false, whyNot + "; pid file removed");
        }

        if (!Posix.TrySignal(pid, Posix.SigKill))
        {
            return new StaleQemu(pid, workDir, false, "could not signal the process (it exited or is not ours)");
        }

        var deadline = DateTime.UtcNow + DeathTimeout;
        while (IsAlive(pid) && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(10);
        }

        return IsAlive(pid)
            ? new StaleQemu(pid, workDir, false, $"sent SIGKILL but it is still alive after {DeathTimeout.TotalSeconds:0} s")
            : new StaleQemu(pid, workDir, true, "killed");
    }

    /// <summary>Alive means present and not a zombie (a zombie holds no resources; its parent reaps it).</summary>
    internal static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat[(stat.LastIndexOf(')') + 2)..].FirstOrDefault();
            return state is not ('Z' or 'X');
        }
        catch (IOException)
        {
            return false;
        }
    }
}
