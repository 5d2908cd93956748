using System.Runtime.Versioning;
using Cleanroom.HostProcesses;
using Microsoft.Extensions.Logging;

namespace Cleanroom.Vm.Qemu.Confinement;

/// <summary>
/// Decides and prepares each VM's confinement (one per backend). As root: a uid of its own from the configured
/// range, a jail in its own mount namespace holding only the system directories, its boot files and its work
/// directory, and a cgroup with memory and pids limits when the host has the controllers. Not as root: QEMU runs
/// as the daemon's user with no jail and no cgroup. The seccomp sandbox and the empty environment apply always.
/// </summary>
internal sealed class QemuConfiner
{
    private const UnixFileMode Owner = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode OwnerReadWrite = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode TraverseOnly = Owner | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    private readonly QemuBackendOptions _options;
    private readonly ILogger _logger;
    private readonly Lazy<CgroupHost> _cgroups;
    private readonly VmUidPool? _uids;
    private int _cgroupWarningLogged;

    public QemuConfiner(QemuBackendOptions options, ILogger logger, bool isRoot, Func<CgroupHost>? detectCgroups = null)
    {
        _options = options;
        _logger = logger;
        IsRoot = isRoot;
        _cgroups = new Lazy<CgroupHost>(detectCgroups ?? CgroupHost.Detect);
        _uids = isRoot ? new VmUidPool(options.FirstVmUid, options.VmUidCount) : null;
    }

    /// <summary>Whether VMs get their own uid, jail and cgroup (the daemon runs as root).</summary>
    public bool IsRoot { get; }

    public CgroupHost Cgroups => _cgroups.Value;

    /// <summary>
    /// Lays out <paramref name="dir"/> (whose overlay already exists) for the VM's uid, creates its cgroup and
    /// returns the plan with what must be released after the VM is gone. Undoes its own steps if one fails.
    /// </summary>
    public ConfinedVm Prepare(VmSpec spec, VmWorkDir dir, string qemuPath, AccelMode accel)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("QEMU VMs run on Linux only.");
        }

        if (!IsRoot)
        {
            Directory.CreateDirectory(dir.RunDir, Owner);
            return new ConfinedVm(QemuConfinement.Minimal, null, null);
        }

        string[] readOnly = [spec.Assets.KernelPath, spec.Assets.InitrdPath, spec.EffectiveRootImagePath, .. spec.WorkspaceImagePath is { } workspace ? [workspace] : Array.Empty<string>()];
        foreach (var path in readOnly)
        {
            RequireReadableByOthers(path);
        }

        var lease = _uids!.Rent();
        VmCgroup? cgroup = null;
        try
        {
            LayOut(dir, lease);
            cgroup = CreateCgroup(spec, accel);
            var plan = new QemuConfinement
            {
                User = (lease.Uid, lease.Gid),
                JailMountPoint = dir.JailDir,
                ReadOnlyPaths = [.. QemuConfinement.SystemPaths, .. readOnly, .. OutsideSystemPaths(qemuPath)],
                ReadWritePaths = [dir.Path],
                KvmDevice = accel == AccelMode.Kvm ? _options.KvmDevicePath : null,
                CgroupProcsFiles = cgroup?.ProcsFiles ?? [],
            };
            return new ConfinedVm(plan, lease, cgroup);
        }
        catch
        {
            cgroup?.Remove();
            lease.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The confinement of a VM an earlier daemon started (process <paramref name="pid"/>): its uid, held again so it
    /// is not handed out twice, and its cgroup, so both are released when the VM goes.
    /// </summary>
    public ConfinedVm Adopt(string vmId, int pid)
    {
        if (!IsRoot)
        {
            return new ConfinedVm(QemuConfinement.Minimal, null, null);
        }

        var uid = ProcessUids.RealUidOf(pid) ?? throw new VmException($"VM {vmId}: cannot read the uid of process {pid}.");
        var lease = _uids!.Adopt(uid);
        return new ConfinedVm(QemuConfinement.Minimal, lease, VmCgroup.Adopt(Cgroups, vmId));
    }

    /// <summary>
    /// Work directory root-owned 0711 (the VM may pass through, not list or create), overlay and run directory
    /// owned by the VM, 0600 and 0700, the jail mount point root-owned 0700 (empty on the host).
    /// </summary>
    [SupportedOSPlatform("linux")]
    private static void LayOut(VmWorkDir dir, VmUidLease lease)
    {
        File.SetUnixFileMode(dir.Path, TraverseOnly);
        File.SetUnixFileMode(dir.RootDisk, OwnerReadWrite);
        Posix.ChangeOwner(dir.RootDisk, lease.Uid, lease.Gid);
        Directory.CreateDirectory(dir.RunDir, Owner);
        File.SetUnixFileMode(dir.RunDir, Owner);
        Posix.ChangeOwner(dir.RunDir, lease.Uid, lease.Gid);
        Directory.CreateDirectory(dir.JailDir, Owner);
    }

    private VmCgroup? CreateCgroup(VmSpec spec, AccelMode accel)
    {
        var host = Cgroups;
        if (host.Version == CgroupVersion.None)
        {
            if (Interlocked.Exchange(ref _cgroupWarningLogged, 1) == 0)
            {
                _logger.LogWarning("VMs run without memory and pids limits: {Reason}.", host.Description);
            }

            return null;
        }

        var overhead = _options.CgroupMemoryOverheadMiB + (accel == AccelMode.Tcg ? QemuCommandLine.TcgTranslationCacheMiB : 0);
        var memoryBytes = ((long)spec.MemoryMiB + overhead) * 1024 * 1024;
        return VmCgroup.Create(host, spec.Id, memoryBytes, _options.CgroupPidsMax);
    }

    /// <summary>
    /// The VM's uid is neither owner nor group of the shared boot files, so it reads them through the "other" bits.
    /// The daemon's state directory (0700) keeps them from other host users; inside the jail they are reachable.
    /// </summary>
    [SupportedOSPlatform("linux")]
    private static void RequireReadableByOthers(string path)
    {
        if (!File.Exists(path))
        {
            throw new VmException($"{path} does not exist.");
        }

        if ((File.GetUnixFileMode(path) & UnixFileMode.OtherRead) == 0)
        {
            throw new VmException(
                $"{path} is not readable by other users (mode {Convert.ToString((int)File.GetUnixFileMode(path), 8)}); "
                + "VMs run as unprivileged uids and read their kernel, initramfs and root image through the 'other' read bit. Run chmod o+r on it.");
        }
    }

    /// <summary>A QEMU outside the bound system directories (an override) is bound on its own.</summary>
    private static IEnumerable<string> OutsideSystemPaths(string qemuPath)
    {
        var full = Path.GetFullPath(qemuPath);
        return QemuConfinement.SystemPaths.Any(p => full.StartsWith(p + "/", StringComparison.Ordinal)) ? [] : [full];
    }
}

/// <summary>What one VM's confinement holds until the VM is gone: its uid and its cgroup.</summary>
internal sealed class ConfinedVm(QemuConfinement plan, VmUidLease? uid, VmCgroup? cgroup) : IDisposable
{
    private int _disposed;

    public QemuConfinement Plan { get; } = plan;

    public int? Uid => uid?.Uid;

    public VmCgroup? Cgroup { get; } = cgroup;

    /// <summary>
    /// Removes the cgroup and returns the uid. Call only after QEMU has exited and the overlay is deleted. Returns
    /// false if the cgroup could not be removed (it still had tasks); the uid is returned either way.
    /// </summary>
    public bool Release()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return true;
        }

        var removed = Cgroup?.Remove() ?? true;
        uid?.Dispose();
        return removed;
    }

    public void Dispose() => Release();
}
