using System.Runtime.InteropServices;

namespace Cleanroom.HostProcesses;

/// <summary>
/// A Linux pidfd: a handle on one process that is not our child (a VM an earlier daemon started). Unlike a pid it
/// cannot come to mean another process once this one is gone, so signals sent through it never reach a stranger that
/// reused the number, and it becomes readable when the process exits.
/// </summary>
public sealed partial class ProcessHandle : IDisposable
{
    // x86-64 and arm64 share these numbers (they were added after the tables were unified).
    private const long PidfdOpenSyscall = 434;
    private const long PidfdSendSignalSyscall = 424;
    private const int Interrupted = 4; // EINTR

    private readonly int _fd;
    private int _disposed;

    private ProcessHandle(int pid, int fd)
    {
        Pid = pid;
        _fd = fd;
    }

    public int Pid { get; }

    /// <summary>Opens a handle on <paramref name="pid"/>; null when no such process exists.</summary>
    public static ProcessHandle? TryOpen(int pid)
    {
        var fd = Syscall(PidfdOpenSyscall, pid, 0, 0, 0);
        return fd < 0 ? null : new ProcessHandle(pid, (int)fd);
    }

    /// <summary>Sends <paramref name="signal"/>; false when the process has already exited.</summary>
    public bool TrySignal(int signal) =>
        !IsDisposed && Syscall(PidfdSendSignalSyscall, _fd, signal, 0, 0) == 0;

    /// <summary>
    /// Completes when the process has exited (cancelled if this handle is disposed first). All handles share one
    /// waiting thread (<see cref="ProcessExitWatcher"/>).
    /// </summary>
    public Task Exited
    {
        get
        {
            ObjectDisposedException.ThrowIf(IsDisposed, this);
            return ProcessExitWatcher.Watch(this);
        }
    }

    internal int Descriptor => _fd;

    /// <summary>Set before <see cref="Dispose"/> asks the watcher to forget this handle and closes the descriptor.</summary>
    internal bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>Waits up to <paramref name="timeout"/> for the process to exit; true once it has.</summary>
    public bool WaitForExit(TimeSpan timeout)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        var poll = new PollCall.Descriptor { Fd = _fd, Events = PollCall.In };
        while (true)
        {
            var ready = PollCall.Poll(ref poll, 1, (int)Math.Clamp(timeout.TotalMilliseconds, 0, int.MaxValue));
            if (ready >= 0)
            {
                return ready > 0;
            }

            if (Marshal.GetLastPInvokeError() != Interrupted)
            {
                throw new IOException($"poll on the handle of process {Pid} failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
            }
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            // Out of the watcher's set before the number can be reused.
            ProcessExitWatcher.Forget(this);
            _ = Close(_fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long number, long a, long b, long c, long d);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}
