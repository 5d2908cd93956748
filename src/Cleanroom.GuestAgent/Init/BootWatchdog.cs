namespace Cleanroom.GuestAgent.Init;

/// <summary>
/// Says on the console where a boot that does not finish is stuck. The host gives up on a guest whose agent has not
/// answered within its launch timeout (60 s by default) and keeps only the last lines of its console, which until
/// now ended wherever the boot had stopped logging: a stuck step and a step that never started looked the same. If
/// the agent is not serving <see cref="Delay"/> after its init started, this logs the steps done and how long the
/// current one has run, with the state of the background warm-up, after the kernel's list of blocked tasks (sysrq
/// <c>w</c>), so the summary is the console's last line. Fires at most once; <see cref="Dispose"/> once serving.
/// </summary>
internal sealed class BootWatchdog : IDisposable
{
    /// <summary>A cold boot under TCG serves within about 2 s, and within 10 s on a host busy with other boots.</summary>
    public static readonly TimeSpan Delay = TimeSpan.FromSeconds(20);

    private readonly StepTimings _timings;
    private readonly Func<string> _backgroundState;
    private readonly Action<string> _report;
    private readonly Action _dumpKernelState;
    private readonly Timer _timer;
    private int _settled;

    private BootWatchdog(StepTimings timings, Func<string> backgroundState, Action<string> report, Action dumpKernelState, TimeSpan delay)
    {
        _timings = timings;
        _backgroundState = backgroundState;
        _report = report;
        _dumpKernelState = dumpKernelState;
        _timer = new Timer(_ => Fire(), null, delay, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Arms the watchdog for a boot whose steps <paramref name="timings"/> records.</summary>
    public static BootWatchdog Start(StepTimings timings, Func<string> backgroundState) =>
        Start(timings, backgroundState, AgentLog.Warn, KernelTaskDump.BlockedTasks, Delay);

    internal static BootWatchdog Start(StepTimings timings, Func<string> backgroundState, Action<string> report, Action dumpKernelState, TimeSpan delay) =>
        new(timings, backgroundState, report, dumpKernelState, delay);

    /// <summary>The boot finished: nothing to report, now or later.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _settled, 1) == 0)
        {
            _timer.Dispose();
        }
    }

    /// <summary>Reports the stall, unless the boot finished first (the timer's callback; also called by tests).</summary>
    internal void Fire()
    {
        if (Interlocked.Exchange(ref _settled, 1) != 0)
        {
            return;
        }

        _timer.Dispose();
        try
        {
            _dumpKernelState();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // On the timer's thread an escaping exception would end the agent, and with it a boot that may yet finish.
            _report("boot watchdog: could not list the kernel's blocked tasks: " + ex.Message);
        }

        _report($"boot not finished {Delay.TotalSeconds:0} s after init started: {_timings.Progress()}; background warm-up: {_backgroundState()}");
    }
}
