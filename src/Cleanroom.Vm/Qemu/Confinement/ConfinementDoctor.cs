using System.Globalization;
using Cleanroom.HostProcesses;
using Cleanroom.Vm.Doctor;

namespace Cleanroom.Vm.Qemu.Confinement;

/// <summary>
/// The doctor lines about how VMs are confined: their uids, QEMU's seccomp sandbox, cgroup limits and the mount
/// namespace jail. A daemon that is not root gets warnings that say what it does without them.
/// </summary>
internal static class ConfinementDoctor
{
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(10);

    public static async Task<IReadOnlyList<DoctorCheck>> RunAsync(QemuBackendOptions options, string? qemuPath, bool isRoot, CancellationToken ct) =>
    [
        CheckUids(options, isRoot),
        await CheckSandboxAsync(qemuPath, ct),
        CheckCgroups(options, isRoot),
        await CheckMountNamespaceAsync(isRoot, ct),
    ];

    private static DoctorCheck CheckUids(QemuBackendOptions options, bool isRoot)
    {
        if (!isRoot)
        {
            return new DoctorCheck(QemuDoctor.Names.VmUids, CheckStatus.Warn,
                "the daemon is not root: QEMU runs as the daemon's own user (no uid of its own, no jail, no cgroup limits)");
        }

        var first = options.FirstVmUid;
        var last = (long)first + options.VmUidCount - 1;
        var range = $"uids {first}-{last} ({options.VmUidCount} VMs at once), each VM its own uid and gid, no groups, no capabilities";
        if (first < 1 || options.VmUidCount < 1 || last > int.MaxValue)
        {
            return new DoctorCheck(QemuDoctor.Names.VmUids, CheckStatus.Fail, $"invalid range: first {first}, count {options.VmUidCount}");
        }

        var clash = UsedIds("/etc/passwd", first, last) ?? UsedIds("/etc/subuid", first, last) ?? UsedIds("/etc/group", first, last) ?? UsedIds("/etc/subgid", first, last);
        return clash is null
            ? new DoctorCheck(QemuDoctor.Names.VmUids, CheckStatus.Pass, range)
            : new DoctorCheck(QemuDoctor.Names.VmUids, CheckStatus.Warn, $"{range}; but {clash}: choose another FirstVmUid");
    }

    private static async Task<DoctorCheck> CheckSandboxAsync(string? qemuPath, CancellationToken ct)
    {
        if (qemuPath is null)
        {
            return new DoctorCheck(QemuDoctor.Names.QemuSandbox, CheckStatus.Fail, "not checked: qemu-system-x86_64 is missing");
        }

        try
        {
            var help = await HostCommand.RunAsync(qemuPath, ["-help"], ToolTimeout, ct);
            return help.Stdout.Contains("-sandbox", StringComparison.Ordinal)
                ? new DoctorCheck(QemuDoctor.Names.QemuSandbox, CheckStatus.Pass, $"seccomp: -sandbox {QemuCommandLine.Sandbox}")
                : new DoctorCheck(QemuDoctor.Names.QemuSandbox, CheckStatus.Fail, $"{qemuPath} was built without seccomp (-sandbox); VMs cannot start");
        }
        catch (HostCommandException ex)
        {
            return new DoctorCheck(QemuDoctor.Names.QemuSandbox, CheckStatus.Fail, ex.Message);
        }
    }

    private static DoctorCheck CheckCgroups(QemuBackendOptions options, bool isRoot)
    {
        var host = CgroupHost.Detect();
        if (!isRoot)
        {
            return new DoctorCheck(QemuDoctor.Names.Cgroups, CheckStatus.Warn, $"not used: the daemon is not root ({host.Description})");
        }

        if (host.Version == CgroupVersion.None)
        {
            return new DoctorCheck(QemuDoctor.Names.Cgroups, CheckStatus.Warn, $"VMs run without memory and pids limits: {host.Description}");
        }

        // Proves a VM cgroup can really be made here (v2 refuses controllers under a cgroup that holds processes).
        var probeId = "doctor-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        try
        {
            VmCgroup.Create(host, probeId, 64L * 1024 * 1024, 1).Remove();
        }
        catch (VmException ex)
        {
            return new DoctorCheck(QemuDoctor.Names.Cgroups, CheckStatus.Fail, $"{host.Description}; but {ex.Message}");
        }

        return new DoctorCheck(QemuDoctor.Names.Cgroups, CheckStatus.Pass,
            $"{host.Description}; per VM: memory = guest + {options.CgroupMemoryOverheadMiB} MiB (+ {QemuCommandLine.TcgTranslationCacheMiB} MiB translation cache under TCG), at most {options.CgroupPidsMax} tasks");
    }

    private static async Task<DoctorCheck> CheckMountNamespaceAsync(bool isRoot, CancellationToken ct)
    {
        if (!isRoot)
        {
            return new DoctorCheck(QemuDoctor.Names.MountNamespace, CheckStatus.Warn, "not used: the daemon is not root, so QEMU sees the host's file systems");
        }

        if (!ExecutableSearch.IsExecutable(QemuLauncher.HelperPath))
        {
            return new DoctorCheck(QemuDoctor.Names.MountNamespace, CheckStatus.Fail, $"missing {QemuLauncher.HelperPath}, which starts every QEMU in its jail; run scripts/setup.sh");
        }

        // A dry run of the launcher: a jail with the system's binds, /bin/true in it.
        var jail = Directory.CreateTempSubdirectory("cleanroom-doctor-jail-");
        try
        {
            var launch = QemuLauncher.Build("/bin/true", [], new QemuConfinement { JailMountPoint = jail.FullName, ReadOnlyPaths = QemuConfinement.SystemPaths });
            await HostCommand.RunAsync(launch.FileName, launch.Arguments, ToolTimeout, ct);
        }
        catch (HostCommandException ex)
        {
            return new DoctorCheck(QemuDoctor.Names.MountNamespace, CheckStatus.Fail, $"cannot build a jail in a mount namespace: {ex.Message}");
        }
        finally
        {
            jail.Delete();
        }

        return new DoctorCheck(QemuDoctor.Names.MountNamespace, CheckStatus.Pass,
            "each VM's QEMU has its own mount namespace; its root is a read-only jail with /usr, its boot files and its work directory");
    }

    /// <summary>A description of the first id in <paramref name="file"/> (passwd/group style or subuid ranges) that falls in [first, last].</summary>
    private static string? UsedIds(string file, long first, long last)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(file);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        var ranges = file.Contains("/sub", StringComparison.Ordinal);
        foreach (var fields in lines.Select(l => l.Split(':')))
        {
            if (ranges && fields.Length >= 3 && long.TryParse(fields[1], out var start) && long.TryParse(fields[2], out var count)
                && start <= last && start + count - 1 >= first)
            {
                return $"{file} gives {fields[0]} ids {start}-{start + count - 1}";
            }

            if (!ranges && fields.Length >= 3 && long.TryParse(fields[2], out var id) && id >= first && id <= last)
            {
                return $"{file} has {fields[0]} with id {id}";
            }
        }

        return null;
    }
}
