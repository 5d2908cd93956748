using System.Runtime.InteropServices;

namespace Cleanroom.Vm.Host;

/// <summary>The few POSIX calls .NET has no API for. Process.Kill only sends SIGKILL; a polite stop needs SIGTERM.</summary>
internal static partial class Posix
{
    public const int SigTerm = 15;
    public const int SigKill = 9;

    /// <summary>Sends <paramref name="signal"/>; returns false if the process no longer exists (ESRCH) or it is not ours.</summary>
    public static bool TrySignal(int pid, int signal) => Kill(pid, signal) == 0;

    /// <summary>True while <paramref name="pid"/> exists (possibly as a zombie).</summary>
    public static bool Exists(int pid) => Directory.Exists($"/proc/{pid}");

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
