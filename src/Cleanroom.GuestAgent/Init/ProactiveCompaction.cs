namespace Cleanroom.GuestAgent.Init;

/// <summary>
/// Turns the kernel's proactive memory compaction off (<c>vm.compaction_proactiveness</c> = 0). By default kcompactd
/// wakes every 500 ms to check fragmentation and compacts in the background to keep huge pages available; a
/// sandbox's memory is small and short-lived, and under TCG each of those walks is dear: an idle sandbox's QEMU went
/// from about 5 to 2 ms of host CPU a second with it off (per-thread schedstat, before and after in one VM).
/// Compaction on demand, when an allocation needs it, is unchanged; a command may set it back.
/// </summary>
internal static class ProactiveCompaction
{
    public const string Sysctl = "/proc/sys/vm/compaction_proactiveness";

    /// <summary>Returns what it did, for the boot log.</summary>
    public static string TurnOff() =>
        KernelFile.Write(Sysctl, "0") is { } failure ? "proactive compaction left on: " + failure : "proactive compaction off";
}
