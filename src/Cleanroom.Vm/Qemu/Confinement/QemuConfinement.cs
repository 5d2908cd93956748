namespace Cleanroom.Vm.Qemu.Confinement;

/// <summary>
/// How one QEMU process is confined, decided by the backend and carried out by <see cref="QemuLauncher"/>. The
/// seccomp sandbox and the scrubbed environment are not optional and are not listed here.
/// </summary>
internal sealed record QemuConfinement
{
    /// <summary>No uid switch, no jail, no cgroup: what a daemon that is not root can still do.</summary>
    public static readonly QemuConfinement Minimal = new();

    /// <summary>The uid and gid QEMU runs as, without groups or capabilities; null keeps the daemon's user.</summary>
    public (int Uid, int Gid)? User { get; init; }

    /// <summary>
    /// An empty directory the launcher mounts the jail's tmpfs root on, inside QEMU's own mount namespace (the host
    /// only ever sees the empty directory); null means no mount namespace and no jail.
    /// </summary>
    public string? JailMountPoint { get; init; }

    /// <summary>Host paths bound read-only into the jail at the same path (system directories, kernel, images).</summary>
    public IReadOnlyList<string> ReadOnlyPaths { get; init; } = [];

    /// <summary>Host paths bound read-write into the jail at the same path (the VM's work directory).</summary>
    public IReadOnlyList<string> ReadWritePaths { get; init; } = [];

    /// <summary>A KVM device to recreate as the jail's /dev/kvm, owned by <see cref="User"/>; null under TCG.</summary>
    public string? KvmDevice { get; init; }

    /// <summary>
    /// Mount a /proc in the jail that shows only QEMU's own processes (<c>hidepid=invisible,subset=pid</c>): a VM
    /// whose RAM is an inherited memfd opens it as <c>/proc/self/fd/N</c>. Otherwise the jail has no /proc.
    /// </summary>
    public bool OwnProcessesProc { get; init; }

    /// <summary>Files the launcher writes its pid to before exec (the VM's cgroup in each hierarchy).</summary>
    public IReadOnlyList<string> CgroupProcsFiles { get; init; } = [];

    /// <summary>
    /// What QEMU needs from the host's root file system to run at all: its binaries and libraries (merged-/usr
    /// symlinks are recreated, real directories bound) and the dynamic linker's cache. Paths that do not exist on
    /// this host are skipped by the launcher.
    /// </summary>
    public static IReadOnlyList<string> SystemPaths { get; } = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc/ld.so.cache"];
}
