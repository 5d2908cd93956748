using System.Runtime.InteropServices;

namespace Cleanroom.Jail;

/// <summary>
/// Builds the jail in a mount namespace of QEMU's own (mounts propagate into it from the host, never out), so the
/// jail's mounts vanish with QEMU and nothing is left to unmount on the host. Then makes it the root.
/// </summary>
internal static class JailBuilder
{
    private static readonly (string Name, uint Minor)[] MemoryDevices = [("null", 3), ("zero", 5), ("random", 8), ("urandom", 9)];

    /// <summary>Runs the steps in order: cgroups are joined, the jail is mounted and filled.</summary>
    public static void Build(JailPlan plan)
    {
        var unshared = false;
        foreach (var step in plan.Steps)
        {
            switch (step.Kind)
            {
                case "cgroup":
                    JoinCgroup(step.Path);
                    break;
                case "jail":
                    if (!unshared)
                    {
                        JailFailure.ThrowIfFailed(LibC.unshare(LibC.CLONE_NEWNS), "cannot make a mount namespace");
                        JailFailure.ThrowIfFailed(LibC.mount("none", "/", null, LibC.MS_REC | LibC.MS_SLAVE, null), "cannot make the mounts propagate only inwards");
                        unshared = true;
                    }

                    MountJail(step.Path);
                    break;
                case "ro" or "rw":
                    Bind(plan.Jail!, step.Path, readOnly: step.Kind == "ro");
                    break;
                case "kvm":
                    AddKvm(plan.Jail!, step.Path, plan.User);
                    break;
            }
        }
    }

    /// <summary>
    /// pivot_root into the jail and detach the host's tree; a private /proc showing only QEMU's own processes when
    /// asked for; the jail's root read-only.
    /// </summary>
    public static void Enter(string jail, bool ownProc)
    {
        JailFailure.ThrowIfFailed(LibC.chdir(jail), "cannot enter " + jail);
        JailFailure.ThrowIfFailed(LibC.mkdir("old-root", 0x1ed), "cannot make old-root in the jail");
        JailFailure.ThrowIfFailed(LibC.mkdir("proc", 0x1ed), "cannot make proc in the jail");
        JailFailure.ThrowIfFailed(LibC.syscall(LibC.SYS_pivot_root, Utf8("."), Utf8("old-root")), "pivot_root into " + jail + " failed");
        JailFailure.ThrowIfFailed(LibC.chdir("/"), "cannot enter the jail's root");
        JailFailure.ThrowIfFailed(LibC.umount2("/old-root", LibC.MNT_DETACH), "cannot detach the host's root");
        JailFailure.ThrowIfFailed(LibC.rmdir("/old-root"), "cannot remove old-root");
        if (ownProc)
        {
            JailFailure.ThrowIfFailed(LibC.mount("proc", "/proc", "proc", LibC.MS_NOSUID | LibC.MS_NODEV | LibC.MS_NOEXEC, "hidepid=invisible,subset=pid"), "cannot mount a private /proc");
        }
        else
        {
            JailFailure.ThrowIfFailed(LibC.rmdir("/proc"), "cannot remove proc");
        }

        JailFailure.ThrowIfFailed(LibC.mount(null, "/", null, LibC.MS_REMOUNT | LibC.MS_BIND | LibC.MS_RDONLY | LibC.MS_NOSUID, null), "cannot make the jail root read-only");
    }

    private static unsafe void JoinCgroup(string file)
    {
        // Opened, never created: a cgroup that is not there must fail the launch, not leave a stray file.
        var fd = LibC.open(file, LibC.O_WRONLY | LibC.O_CLOEXEC);
        JailFailure.ThrowIfFailed(fd, "cannot join cgroup " + file);
        try
        {
            // "0" is the writer: in a v1 tasks file this thread (the main one, which execs QEMU), in a v2 cgroup.procs
            // this process, just as our pid would be. It is also the fast way in on v1: for a thread that moves itself
            // the kernel skips the lock every other move takes, which after a quiet spell waits out an RCU grace period
            // (6 to 12 ms here, on every VM start; 0.02 ms this way).
            byte* self = stackalloc byte[] { (byte)'0', (byte)'\n' };
            JailFailure.ThrowIfFailed(LibC.write(fd, self, 2), "cannot join cgroup " + file);
        }
        finally
        {
            _ = LibC.close(fd);
        }
    }

    private static void MountJail(string jail)
    {
        JailFailure.ThrowIfFailed(LibC.mount("cleanroom-jail", jail, "tmpfs", LibC.MS_NOSUID, "mode=0755,size=1m"), "cannot mount the jail on " + jail);
        JailFailure.ThrowIfFailed(LibC.mkdir(jail + "/dev", 0x1ed), "cannot make the jail's /dev");
        foreach (var (name, minor) in MemoryDevices)
        {
            MakeDevice(jail + "/dev/" + name, 0x1b6, LibC.MakeDevice(1, minor));
        }
    }

    /// <summary>
    /// Shows <paramref name="path"/> in the jail at the same path, over what an earlier bind already shows there. A
    /// top-level symlink (/bin -> usr/bin) is recreated instead, pointing at the absolute directory it resolves to; a
    /// path missing on the host is skipped.
    /// </summary>
    private static void Bind(string jail, string path, bool readOnly)
    {
        var inJail = jail + path;
        var info = new FileInfo(path);
        if (info.LinkTarget is { } literal && path.LastIndexOf('/') == 0)
        {
            var target = Resolve(path) ?? literal;
            JailFailure.ThrowIfFailed(LibC.symlink(target, inJail), $"cannot link {path} in the jail");
            return;
        }

        if (Directory.Exists(path))
        {
            Directory.CreateDirectory(inJail);
        }
        else if (File.Exists(path))
        {
            if (!Path.Exists(inJail))
            {
                Directory.CreateDirectory(Path.GetDirectoryName(inJail)!);
                File.Create(inJail).Dispose();
            }
        }
        else
        {
            return;
        }

        JailFailure.ThrowIfFailed(LibC.mount(path, inJail, null, LibC.MS_BIND, null), $"cannot bind {path} into the jail");
        var flags = LibC.MS_REMOUNT | LibC.MS_BIND | LibC.MS_NOSUID | LibC.MS_NODEV | (readOnly ? LibC.MS_RDONLY : 0);
        JailFailure.ThrowIfFailed(LibC.mount(null, inJail, null, flags, null), $"cannot restrict the bind of {path} in the jail");
    }

    private static unsafe void AddKvm(string jail, string device, (uint Uid, uint Gid)? user)
    {
        // struct stat on x86_64: st_rdev is the 8 bytes at offset 40.
        var buffer = stackalloc byte[256];
        JailFailure.ThrowIfFailed(LibC.stat(device, buffer), "cannot stat " + device);
        var node = jail + "/dev/kvm";
        MakeDevice(node, 0x180, *(ulong*)(buffer + 40));
        if (user is var (uid, gid))
        {
            JailFailure.ThrowIfFailed(LibC.chown(node, uid, gid), "cannot give /dev/kvm to the VM's user");
        }
    }

    private static void MakeDevice(string path, uint mode, ulong device)
    {
        JailFailure.ThrowIfFailed(LibC.mknod(path, LibC.S_IFCHR | mode, device), "cannot make " + path);

        // The mode exactly, whatever the umask took from it.
        JailFailure.ThrowIfFailed(LibC.chmod(path, mode), "cannot set the mode of " + path);
    }

    private static string? Resolve(string path)
    {
        var resolved = LibC.realpath(path, 0);
        if (resolved == 0)
        {
            return null;
        }

        try
        {
            return Marshal.PtrToStringUTF8(resolved);
        }
        finally
        {
            LibC.free(resolved);
        }
    }

    private static nint Utf8(string text) => Marshal.StringToCoTaskMemUTF8(text);
}
