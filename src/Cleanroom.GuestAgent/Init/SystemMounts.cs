namespace Cleanroom.GuestAgent.Init;

/// <summary>The pseudo and scratch filesystems every job expects, mounted inside the new root.</summary>
internal static class SystemMounts
{
    private const nuint NoSuidNoDev = Native.LibC.MS_NOSUID | Native.LibC.MS_NODEV;

    public static void MountAll()
    {
        // Usually already moved in from the initramfs (then these report "busy", which is fine).
        Mounts.MountIfAbsent("proc", "/proc", "proc", NoSuidNoDev | Native.LibC.MS_NOEXEC);
        Mounts.MountIfAbsent("sysfs", "/sys", "sysfs", NoSuidNoDev | Native.LibC.MS_NOEXEC);
        Mounts.MountIfAbsent("devtmpfs", "/dev", "devtmpfs", Native.LibC.MS_NOSUID, "mode=0755");
        Mounts.Mount("devpts", "/dev/pts", "devpts", Native.LibC.MS_NOSUID | Native.LibC.MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620");
        Mounts.Mount("shm", "/dev/shm", "tmpfs", NoSuidNoDev, "mode=1777");
        Mounts.Mount("run", "/run", "tmpfs", NoSuidNoDev, "mode=0755");
        Mounts.Mount("tmp", "/tmp", "tmpfs", NoSuidNoDev, "mode=1777");
        LinkStandardDevices();
    }

    /// <summary>devtmpfs lacks the /dev/fd family that udev would add; shells (process substitution) need them.</summary>
    private static void LinkStandardDevices()
    {
        (string Link, string Target)[] links =
        [
            ("/dev/fd", "/proc/self/fd"),
            ("/dev/stdin", "/proc/self/fd/0"),
            ("/dev/stdout", "/proc/self/fd/1"),
            ("/dev/stderr", "/proc/self/fd/2"),
        ];
        foreach (var (link, target) in links)
        {
            if (!Path.Exists(link) && new FileInfo(link).LinkTarget is null)
            {
                File.CreateSymbolicLink(link, target);
            }
        }
    }
}
