using System.Runtime.InteropServices;

namespace Cleanroom.HostProcesses;

/// <summary>
/// One thread that waits for the exit of every process watched through a pidfd (<see cref="ProcessHandle.Exited"/>),
/// instead of a thread per process: a daemon that took over forty VMs after a restart used to wait with forty threads,
/// each waking every second. The thread polls all the pidfds at once, plus an eventfd that tells it the set changed.
/// It starts with the first watch and then stays (parked in poll while nothing is watched).
/// </summary>
internal static partial class ProcessExitWatcher
{
    private const int EfdCloexec = 0x80000;
    private const int Interrupted = 4; // EINTR
    private static readonly Lock Gate = new();
    private static readonly Dictionary<ProcessHandle, TaskCompletionSource> Watched = [];
    private static int _wakeFd = -1;

    /// <summary>A task that completes when the process behind <paramref name="handle"/> has exited.</summary>
    public static Task Watch(ProcessHandle handle)
    {
        lock (Gate)
        {
            if (Watched.TryGetValue(handle, out var existing))
            {
                return existing.Task;
            }

            // Checked under the gate: a Dispose on another thread marks the handle before it takes the gate to forget
            // it, so either it finds this watch and removes it or this sees the mark. Adding a disposed handle would
            // poll a closed descriptor whose number another file may reuse.
            ObjectDisposedException.ThrowIf(handle.IsDisposed, handle);

            EnsureThread();
            var exited = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Watched[handle] = exited;
            Wake();
            return exited.Task;
        }
    }

    /// <summary>Stops watching <paramref name="handle"/> before its descriptor is closed; its task is cancelled.</summary>
    public static void Forget(ProcessHandle handle)
    {
        TaskCompletionSource? exited;
        lock (Gate)
        {
            if (!Watched.Remove(handle, out exited))
            {
                return;
            }

            Wake();
        }

        exited.TrySetCanceled();
    }

    private static void EnsureThread()
    {
        if (_wakeFd >= 0)
        {
            return;
        }

        var fd = EventFd(0, EfdCloexec);
        if (fd < 0)
        {
            throw new IOException("eventfd failed: " + Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError()));
        }

        _wakeFd = fd;
        new Thread(Run) { IsBackground = true, Name = "process exits" }.Start();
    }

    private static void Wake()
    {
        ulong one = 1;
        _ = Write(_wakeFd, ref one, sizeof(ulong));
    }

    private static void Run()
    {
        while (true)
        {
            KeyValuePair<ProcessHandle, TaskCompletionSource>[] watched;
            lock (Gate)
            {
                watched = [.. Watched];
            }

            var polls = new PollCall.Descriptor[watched.Length + 1];
            polls[0] = new PollCall.Descriptor { Fd = _wakeFd, Events = PollCall.In };
            for (var i = 0; i < watched.Length; i++)
            {
                polls[i + 1] = new PollCall.Descriptor { Fd = watched[i].Key.Descriptor, Events = PollCall.In };
            }

            if (PollCall.Poll(ref polls[0], (ulong)polls.Length, -1) < 0)
            {
                // EINTR; nothing else is possible with valid arguments (a closed descriptor reports POLLNVAL).
                continue;
            }

            if (polls[0].Revents != 0)
            {
                ulong count = 0;
                _ = Read(_wakeFd, ref count, sizeof(ulong));
            }

            for (var i = 0; i < watched.Length; i++)
            {
                if (polls[i + 1].Revents == 0)
                {
                    continue;
                }

                // Only a handle still watched with the same task: one forgotten meanwhile may have had its descriptor
                // closed and its number reused by an unrelated file.
                var (handle, exited) = (watched[i].Key, watched[i].Value);
                bool current;
                lock (Gate)
                {
                    current = Watched.TryGetValue(handle, out var now) && now == exited && Watched.Remove(handle);
                }

                if (current)
                {
                    exited.TrySetResult();
                }
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "eventfd", SetLastError = true)]
    private static partial int EventFd(uint initial, int flags);

    [LibraryImport("libc", EntryPoint = "write")]
    private static partial nint Write(int fd, ref ulong value, nuint count);

    [LibraryImport("libc", EntryPoint = "read")]
    private static partial nint Read(int fd, ref ulong value, nuint count);
}
