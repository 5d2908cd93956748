namespace Cleanroom.GuestAgent.Init;

/// <summary>The kernel's own account of what its tasks wait for, on the console, for a boot that is stuck.</summary>
internal static class KernelTaskDump
{
    private const string Printk = "/proc/sys/kernel/printk";
    private const string SysrqTrigger = "/proc/sysrq-trigger";

    /// <summary>
    /// sysrq <c>w</c>: every task in uninterruptible sleep, with its kernel stack. The kernel prints that at its info
    /// level, which the guest's <c>quiet</c> keeps off the console, so the console's level is raised first and left
    /// raised: the boot is already late, and what the kernel says next about it is worth having too.
    /// </summary>
    public static void BlockedTasks()
    {
        if (KernelFile.Write(Printk, "7") is { } raise)
        {
            AgentLog.Warn("boot watchdog: " + raise);
        }

        if (KernelFile.Write(SysrqTrigger, "w") is { } dump)
        {
            AgentLog.Warn("boot watchdog: " + dump);
        }
    }
}
