using Cleanroom.GuestAgent.Native;

namespace Cleanroom.GuestAgent.Processes;

/// <summary>
/// The one place that calls waitpid. A single thread waits for any child (as PID 1 that includes orphans reparented
/// to us) and hands each registered pid its status; unknown pids are simply reaped. Spawning happens under the same
/// lock the dispatcher takes, so a child that exits before its pid is registered is still matched.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "One instance for the life of the process; its reaper thread never stops.")]
internal sealed class ChildReaper
{
    private static readonly Lazy<ChildReaper> SharedInstance = new(() => new ChildReaper());
    private readonly object _lock = new();
    private readonly Dictionary<int, TaskCompletionSource<ProcessExit>> _waiters = [];
    private readonly AutoResetEvent _spawned = new(false);
    private readonly ManualResetEventSlim _noChildren = new(true);
    private long _spawnCount;
    private Thread? _thread;

    private ChildReaper()
    {
    }

    /// <summary>waitpid(-1) reaps every child of the process, so there must be exactly one reaper.</summary>
    public static ChildReaper Shared => SharedInstance.Value;

    /// <summary>
    /// Runs <paramref name="spawn"/> (which returns the new pid) under the dispatch lock and registers the pid.
    /// Returns the pid and a task that completes when that child has been reaped.
    /// </summary>
    public (int Pid, Task<ProcessExit> Exited) Spawn(Func<int> spawn)
    {
        ArgumentNullException.ThrowIfNull(spawn);
        var exited = new TaskCompletionSource<ProcessExit>(TaskCreationOptions.RunContinuationsAsynchronously);
        int pid;
        try
        {
            lock (_lock)
            {
                EnsureThread();
                _noChildren.Reset();
                _spawnCount++;
                pid = spawn();
                _waiters[pid] = exited;
            }
        }
        finally
        {
            // Also after a failed spawn: the reaper then finds no child again and restores "no children".
            _spawned.Set();
        }

        return (pid, exited.Task);
    }

    /// <summary>Waits until the process has no children left (used at shutdown); false on timeout.</summary>
    public bool WaitForNoChildren(TimeSpan timeout) => _noChildren.Wait(timeout);

    private void EnsureThread()
    {
        if (_thread is not null)
        {
            return;
        }

        _thread = new Thread(Run) { IsBackground = true, Name = "reaper" };
        _thread.Start();
    }

    private unsafe void Run()
    {
        while (true)
        {
            long spawnsBefore;
            lock (_lock)
            {
                spawnsBefore = _spawnCount;
            }

            int status;
            var pid = LibC.WaitPid(-1, &status, 0);
            if (pid > 0)
            {
                Dispatch(pid, status);
                continue;
            }

            var errno = Errno.Last;
            if (errno == Errno.EINTR)
            {
                continue;
            }

            if (errno == Errno.ECHILD)
            {
                lock (_lock)
                {
                    // A spawn since waitpid started means there is a child again; do not claim otherwise.
                    if (_spawnCount == spawnsBefore)
                    {
                        _noChildren.Set();
                    }
                }

                _spawned.WaitOne();
                continue;
            }

            AgentLog.Error("waitpid failed: " + Errno.Describe(errno));
            Thread.Sleep(100);
        }
    }

    private void Dispatch(int pid, int status)
    {
        TaskCompletionSource<ProcessExit>? waiter;
        lock (_lock)
        {
            _waiters.Remove(pid, out waiter);
        }

        waiter?.TrySetResult(ProcessExit.FromWaitStatus(status));
    }
}
