using Cleanroom.GuestAgent.Native;
using Cleanroom.GuestAgent.Processes;

namespace Cleanroom.GuestAgent.Init;

/// <summary>
/// A clean stop for PID 1: ask every process to end, force the stragglers, flush and detach filesystems so the
/// root disk is consistent (an ext4 image left dirty cannot later be mounted read-only), then power off.
/// </summary>
internal static class ShutdownSequence
{
    private static readonly TimeSpan TermGrace = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan KillGrace = TimeSpan.FromSeconds(1);

    public static void Run(ChildReaper reaper)
    {
        AgentLog.Info($"shutting down (uptime {Uptime.Read()})");

        // kill(-1) reaches every process except init itself; as PID 1 all of them are our descendants.
        LibC.Kill(-1, LibC.SIGTERM);
        if (!reaper.WaitForNoChildren(TermGrace))
        {
            AgentLog.Info($"processes still running after {TermGrace.TotalSeconds:0} s: sending SIGKILL");
            LibC.Kill(-1, LibC.SIGKILL);
            reaper.WaitForNoChildren(KillGrace);
        }

        LibC.Sync();
        UnmountAll();
        if (LibC.Mount(null, "/", null, LibC.MS_REMOUNT | LibC.MS_RDONLY, null) != 0)
        {
            AgentLog.Error("remounting / read-only failed: " + Errno.DescribeLast());
        }

        PowerControl.PowerOff();
    }

    /// <summary>Unmounts everything but / deepest first; busy pseudo filesystems (/dev holds the console) may stay.</summary>
    private static void UnmountAll()
    {
        IReadOnlyList<string> mountPoints;
        try
        {
            mountPoints = MountTable.ParseMountPoints(File.ReadAllText("/proc/self/mounts"));
        }
        catch (IOException ex)
        {
            AgentLog.Error("cannot read /proc/self/mounts: " + ex.Message);
            return;
        }

        foreach (var target in mountPoints.Reverse())
        {
            if (target != "/")
            {
                LibC.Umount2(target, 0);
            }
        }
    }
}
