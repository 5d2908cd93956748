using Cleanroom.GuestAgent.Init;

namespace Cleanroom.GuestAgent.Tests;

/// <summary>A boot that does not finish says on the console how far it got; one that finishes says nothing.</summary>
public class BootWatchdogTests
{
    [Fact]
    public async Task A_stuck_boot_reports_its_steps_and_the_warm_up_after_the_kernel_dump()
    {
        var timings = new StepTimings();
        timings.Mark("modules");
        var events = new List<string>();
        var reported = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        using var watchdog = BootWatchdog.Start(
            timings,
            () => "reading the tool's output (40 ms in)",
            line => { lock (events) { events.Add(line); } reported.TrySetResult(); },
            () => { lock (events) { events.Add("dump"); } },
            TimeSpan.FromMilliseconds(50));

        await reported.Task.WaitAsync(TimeSpan.FromSeconds(30));
        lock (events)
        {
            Assert.Equal("dump", events[0]);
            var line = Assert.Single(events, e => e != "dump");
            Assert.StartsWith("boot not finished 20 s after init started: done: modules ", line, StringComparison.Ordinal);
            Assert.Contains("; the next step has run ", line, StringComparison.Ordinal);
            Assert.EndsWith("; background warm-up: reading the tool's output (40 ms in)", line, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_boot_that_finished_reports_nothing_and_a_stuck_one_reports_once()
    {
        var reports = 0;
        var finished = BootWatchdog.Start(new StepTimings(), () => "done", _ => reports++, () => { }, TimeSpan.FromHours(1));
        finished.Dispose();
        finished.Fire();
        Assert.Equal(0, reports);

        using var stuck = BootWatchdog.Start(new StepTimings(), () => "done", _ => reports++, () => { }, TimeSpan.FromHours(1));
        stuck.Fire();
        stuck.Fire();
        Assert.Equal(1, reports);
    }

    [Fact]
    public void A_failed_kernel_dump_is_reported_and_the_summary_still_comes_last()
    {
        var lines = new List<string>();
        using var watchdog = BootWatchdog.Start(new StepTimings(), () => "not started", lines.Add, () => throw new InvalidOperationException("no sysrq"), TimeSpan.FromHours(1));

        watchdog.Fire();

        Assert.Equal(2, lines.Count);
        Assert.Contains("no sysrq", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("boot not finished 20 s after init started: no step done; the next step has run ", lines[1], StringComparison.Ordinal);
    }
}
