using Cleanroom.GuestAgent.Native;

namespace Cleanroom.GuestAgent.Init;

/// <summary>
/// Ends the VM. PID 1 must never exit (the kernel would panic), so this never returns. RB_AUTOBOOT with
/// <c>reboot=t panic=-1</c> on the kernel command line and QEMU's <c>-no-reboot</c> makes QEMU exit at once.
/// </summary>
internal static class PowerControl
{
    public static void PowerOff()
    {
        LibC.Sync();
        LibC.Reboot(LibC.RB_AUTOBOOT);
        AgentLog.Error("reboot(RB_AUTOBOOT) failed: " + Errno.DescribeLast() + "; trying RB_POWER_OFF");
        LibC.Reboot(LibC.RB_POWER_OFF);
        AgentLog.Error("reboot(RB_POWER_OFF) failed: " + Errno.DescribeLast() + "; halting here");
        while (true)
        {
            Thread.Sleep(Timeout.Infinite);
        }
    }
}
