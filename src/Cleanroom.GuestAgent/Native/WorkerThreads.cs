namespace Cleanroom.GuestAgent.Native;

/// <summary>
/// Dedicated threads for blocking work (the stdio pumps, waiting on the port), kept parked and reused between jobs.
/// Blocking work must not occupy a thread-pool thread (with one vCPU the pool starts with one); and creating three
/// threads per exec costs several milliseconds each under TCG, which dominated a short command's round trip.
/// </summary>
internal static class WorkerThreads
{
    /// <summary>Idle threads kept beyond this many simply end (a burst of concurrent execs is not kept forever).</summary>
    private const int MaxIdle = 48;
    private static readonly object IdleLock = new();
    private static readonly Stack<Worker> Idle = new();

    /// <summary>How long a pre-started thread waits for the others to start before it parks anyway.</summary>
    private static readonly TimeSpan PrestartWait = TimeSpan.FromSeconds(10);

    /// <summary>Runs <paramref name="work"/> on a dedicated thread; the task completes (or faults) with it.</summary>
    public static Task Run(Action work)
    {
        var job = new Job(work);
        Worker? worker;
        lock (IdleLock)
        {
            Idle.TryPop(out worker);
        }

        if (worker is null)
        {
            new Worker().Start(job);
        }
        else
        {
            worker.Assign(job);
        }

        return job.Completion.Task;
    }

    /// <summary>
    /// Starts <paramref name="count"/> threads and parks them idle, without waiting for them: the first command's
    /// pumps then take parked threads like every later command's, instead of creating them on its way (under TCG that
    /// made the first command in a cold sandbox cost 41 ms against 31 with them parked). Each start holds its thread
    /// until all have started, so none is reused for another and <paramref name="count"/> distinct threads end up idle.
    /// </summary>
    public static void Prestart(int count)
    {
        var started = new CountdownEvent(count);
        var jobs = new Task[count];
        for (var i = 0; i < count; i++)
        {
            jobs[i] = Run(() =>
            {
                started.Signal();
                started.Wait(PrestartWait); // bounded: a thread that never started must not park the others for good
            });
        }

        _ = Task.WhenAll(jobs).ContinueWith(_ => started.Dispose(), TaskScheduler.Default);
    }

    private sealed class Job(Action work)
    {
        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Execute()
        {
            try
            {
                work();
                Completion.SetResult();
            }
            catch (Exception ex)
            {
                Completion.SetException(ex);
            }
        }
    }

    private sealed class Worker
    {
        private readonly object _gate = new();
        private Job? _next;

        public void Start(Job first)
        {
            _next = first;
            new Thread(Loop) { IsBackground = true, Name = "pump" }.Start();
        }

        public void Assign(Job job)
        {
            lock (_gate)
            {
                _next = job;
                Monitor.Pulse(_gate);
            }
        }

        private void Loop()
        {
            while (true)
            {
                Job job;
                lock (_gate)
                {
                    while (_next is null)
                    {
                        Monitor.Wait(_gate);
                    }

                    job = _next;
                    _next = null;
                }

                job.Execute();
                lock (IdleLock)
                {
                    if (Idle.Count >= MaxIdle)
                    {
                        return;
                    }

                    Idle.Push(this);
                }
            }
        }
    }
}
