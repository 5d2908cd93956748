using System.Diagnostics;
using Cleanroom.GuestAgent.Native;

namespace Cleanroom.GuestAgent.Init;

/// <summary>
/// Mounts the root disk and makes it "/" the way switch_root does: move it over the initramfs root and chroot into
/// it. The initramfs stays underneath (unreachable); the agent's own binary lives on there and stays usable
/// through /proc/self/exe.
/// </summary>
internal static class RootSwitcher
{
    private const string NewRoot = "/newroot";
    private static readonly TimeSpan DeviceTimeout = TimeSpan.FromSeconds(5);

    public static void SwitchTo(string device)
    {
        WaitForDevice(device);
        Mounts.Mount(device, NewRoot, "ext4");

        // Carry the early mounts over instead of leaving them hidden under the new root.
        foreach (var mount in new[] { "/dev", "/proc", "/sys" })
        {
            if (!Mounts.Move(mount, NewRoot + mount))
            {
                AgentLog.Error($"cannot move {mount} into the new root: {Errno.DescribeLast()} (will mount it afresh)");
            }
        }

        if (LibC.Chdir(NewRoot) != 0)
        {
            throw new InitException($"chdir {NewRoot} failed: {Errno.DescribeLast()}");
        }

        if (LibC.Mount(".", "/", null, LibC.MS_MOVE, null) != 0)
        {
            throw new InitException($"moving {NewRoot} to / failed: {Errno.DescribeLast()}");
        }

        if (LibC.Chroot(".") != 0 || LibC.Chdir("/") != 0)
        {
            throw new InitException($"chroot into the new root failed: {Errno.DescribeLast()}");
        }
    }

    private static void WaitForDevice(string device)
    {
        // devtmpfs creates the node when the driver has probed the disk, which can lag module loading a little.
        var clock = Stopwatch.StartNew();
        while (!File.Exists(device))
        {
            if (clock.Elapsed > DeviceTimeout)
            {
                throw new InitException($"root device {device} did not appear within {DeviceTimeout.TotalSeconds:0} s (is virtio_blk loaded and the disk attached?)");
            }

            Thread.Sleep(10);
        }
    }
}
