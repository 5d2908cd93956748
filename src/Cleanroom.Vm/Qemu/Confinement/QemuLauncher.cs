using System.Globalization;

namespace Cleanroom.Vm.Qemu.Confinement;

/// <summary>
/// Turns QEMU's argv and a <see cref="QemuConfinement"/> into the command that starts it confined: the
/// <c>cleanroom-jail</c> executable (src/Cleanroom.Jail), which in the order of Firecracker's jailer joins the
/// cgroups, builds the jail in a mount namespace of its own and pivots into it (host lookups first, while the host's
/// file systems are still visible), drops to the VM's uid with no groups, no capabilities and no_new_privs, clears
/// the environment and execs QEMU. Nothing is forked, so the launched pid is QEMU's pid. Pure.
/// </summary>
/// <remarks>
/// It replaced a shell script run before every VM that started about 30 processes (unshare, mount, mknod, ln,
/// pivot_root, env, setpriv...), each several milliseconds on a paravirtualised host: about 100 ms per VM, against
/// about 9 ms for the executable making the same system calls. Every value reaches it as a separate argument
/// (<c>kind:value</c> steps, then <c>--</c> and QEMU's argv), and it parses them all before it changes anything.
/// </remarks>
internal static class QemuLauncher
{
    /// <summary>The launcher's file name; it is published beside the daemon (and copied beside the test assemblies).</summary>
    public const string HelperName = "cleanroom-jail";

    /// <summary>Exit code of the launcher when a confinement step fails (QEMU never started).</summary>
    public const int SetupFailedExitCode = 125;

    /// <summary>Where the launcher is: beside the running program.</summary>
    public static string HelperPath => Path.Combine(AppContext.BaseDirectory, HelperName);

    /// <summary>
    /// The command that runs <paramref name="qemuPath"/> with <paramref name="qemuArgs"/> under
    /// <paramref name="confinement"/>. Steps: <c>cgroup:FILE</c> (write own pid), <c>user:UID:GID</c>,
    /// <c>jail:DIR</c> (a tmpfs root on DIR with /dev/null, zero, random, urandom), <c>ro:PATH</c> / <c>rw:PATH</c>
    /// (bind into the jail at the same path, over what an earlier bind already shows there; a top-level symlink such
    /// as /bin -> usr/bin is recreated instead, pointing at the absolute directory it resolves to; a path missing on
    /// the host is skipped), <c>kvm:DEVICE</c>, <c>ownproc:</c> (a /proc showing only QEMU's own processes).
    /// </summary>
    public static ProcessLaunch Build(string qemuPath, IReadOnlyList<string> qemuArgs, QemuConfinement confinement)
    {
        ArgumentNullException.ThrowIfNull(qemuArgs);
        ArgumentNullException.ThrowIfNull(confinement);
        var steps = new List<string>();
        steps.AddRange(confinement.CgroupProcsFiles.Select(f => "cgroup:" + Absolute(f)));
        if (confinement.User is var (uid, gid))
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(uid, 1);
            ArgumentOutOfRangeException.ThrowIfLessThan(gid, 1);
            steps.Add(string.Create(CultureInfo.InvariantCulture, $"user:{uid}:{gid}"));
        }

        if (confinement.JailMountPoint is { } jail)
        {
            steps.Add("jail:" + Absolute(jail));

            // Parents before children, so a bind under an earlier bind's target lands inside it.
            var binds = confinement.ReadOnlyPaths.Select(p => (Kind: "ro:", Path: Absolute(p)))
                .Concat(confinement.ReadWritePaths.Select(p => (Kind: "rw:", Path: Absolute(p))))
                .OrderBy(b => b.Path.Count(c => c == '/'))
                .ThenBy(b => b.Path, StringComparer.Ordinal);
            steps.AddRange(binds.Select(b => b.Kind + b.Path));
            if (confinement.KvmDevice is { } kvm)
            {
                steps.Add("kvm:" + Absolute(kvm));
            }

            if (confinement.OwnProcessesProc)
            {
                steps.Add("ownproc:");
            }
        }
        else if (confinement.ReadOnlyPaths.Count + confinement.ReadWritePaths.Count > 0 || confinement.KvmDevice is not null)
        {
            throw new ArgumentException("Bind mounts and a KVM device need a jail mount point.", nameof(confinement));
        }

        return new ProcessLaunch(HelperPath, [.. steps, "--", Absolute(qemuPath), .. qemuArgs], ProcessLaunch.ScrubbedEnvironment);
    }

    private static string Absolute(string path) =>
        Path.IsPathFullyQualified(path) && !path.Contains('\n', StringComparison.Ordinal)
            ? path.TrimEnd('/') is { Length: > 0 } trimmed ? trimmed : "/"
            : throw new ArgumentException($"Confinement paths must be absolute, without newlines: '{path}'.", nameof(path));
}
