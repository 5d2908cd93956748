using System.Runtime.InteropServices;

namespace Cleanroom.HostProcesses;

/// <summary>The few POSIX calls .NET has no API for. Process.Kill only sends SIGKILL; a polite stop needs SIGTERM.</summary>
public static partial class Posix
{
    public const int SigTerm = 15;
    public const int SigKill = 9;

    /// <summary>Sends <paramref name="signal"/>; returns false if the process no longer exists (ESRCH) or it is not ours.</summary>
    public static bool TrySignal(int pid, int signal) => Kill(pid, signal) == 0;

    /// <summary>True when this process runs as root (effective uid 0), which confining QEMU requires.</summary>
    public static bool IsRoot => GetEffectiveUid() == 0;

    /// <summary>
    /// Changes the owner of <paramref name="path"/> itself, never of a symlink's target. Throws
    /// <see cref="IOException"/> with the errno on failure.
    /// </summary>
    public static void ChangeOwner(string path, int uid, int gid)
    {
        if (LChown(path, uid, gid) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new IOException($"Could not change the owner of {path} to {uid}:{gid}: {Marshal.GetPInvokeErrorMessage(errno)}.");
        }
    }

    /// <summary>True while <paramref name="pid"/> exists (possibly as a zombie).</summary>
    public static bool Exists(int pid) => Directory.Exists($"/proc/{pid}");

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEffectiveUid();

    [LibraryImport("libc", EntryPoint = "lchown", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int LChown(string path, int uid, int gid);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
