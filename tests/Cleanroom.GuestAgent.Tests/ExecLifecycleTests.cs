using System.Diagnostics;
using Cleanroom.Guest.Wire.Messages;

namespace Cleanroom.GuestAgent.Tests;

public class ExecLifecycleTests
{
    [Fact]
    public async Task Sigint_interrupts_sleep()
    {
        await using var agent = await AgentHarness.StartAsync();
        var result = await agent.RunAsync(
            new ExecRequest { Argv = ["sleep", "30"] },
            async process =>
            {
                await process.Started;
                await process.SignalAsync(2, CancellationToken.None);
            });
        Assert.Equal(2, result.Exit.Signal);
        Assert.Equal(130, result.Exit.ShellExitCode);
    }

    [Fact]
    public async Task Signals_reach_the_whole_process_group()
    {
        await using var agent = await AgentHarness.StartAsync();
        var result = await agent.RunAsync(
            AgentHarness.Shell("trap 'echo got TERM; exit 3' TERM; sleep 30 & wait"),
            async process =>
            {
                await process.Started;
                await Task.Delay(300);
                await process.SignalAsync(15, CancellationToken.None);
            });
        Assert.Equal("got TERM\n", result.StdoutText);
        Assert.Equal(3, result.Exit.ExitCode);
    }

    [Fact]
    public async Task Background_child_holding_stdout_does_not_hang_the_exec()
    {
        await using var agent = await AgentHarness.StartAsync();
        var clock = Stopwatch.StartNew();
        var result = await agent.RunAsync(AgentHarness.Shell("sleep 20 & echo done"));
        Assert.Equal("done\n", result.StdoutText);
        Assert.Equal(0, result.Exit.ExitCode);
        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Output_written_after_exit_by_a_background_child_is_still_drained()
    {
        await using var agent = await AgentHarness.StartAsync();
        var result = await agent.RunAsync(AgentHarness.Shell("(sleep 0.2; echo late) & echo early"));
        Assert.Equal("early\nlate\n", result.StdoutText);
    }

    [Fact]
    public async Task Many_concurrent_processes_each_get_their_own_output_and_exit()
    {
        await using var agent = await AgentHarness.StartAsync();
        var runs = Enumerable.Range(0, 64)
            .Select(i => agent.RunAsync(AgentHarness.Shell($"echo {i}; echo e{i} >&2; exit {i % 5}")))
            .ToArray();
        var results = await Task.WhenAll(runs);
        for (var i = 0; i < results.Length; i++)
        {
            Assert.Equal($"{i}\n", results[i].StdoutText);
            Assert.Equal($"e{i}\n", results[i].StderrText);
            Assert.Equal(i % 5, results[i].Exit.ExitCode);
        }
    }

    [Fact]
    public async Task Processes_that_exit_immediately_are_never_lost()
    {
        // Many instant exits race the reaper against registration of the pid.
        await using var agent = await AgentHarness.StartAsync();
        for (var round = 0; round < 5; round++)
        {
            var results = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => agent.RunAsync(new ExecRequest { Argv = ["true"] }, timeout: TimeSpan.FromSeconds(30))));
            Assert.All(results, r => Assert.Equal(new ExitMessage(0, 0, ""), r.Exit));
        }
    }

    [Fact]
    public async Task Host_disconnect_kills_running_processes()
    {
        var agent = await AgentHarness.StartAsync();
        var process = await agent.Client.StartAsync(new ExecRequest { Argv = ["sleep", "30"] }, CancellationToken.None);
        var pid = await process.Started.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(IsAlive(pid));
        await agent.DisposeAsync();
        Assert.Equal(Guest.Wire.Guest.SessionEnd.PeerClosed, await agent.Server);
        Assert.False(IsAlive(pid));
    }

    private static bool IsAlive(int pid)
    {
        // A reaped process has no /proc entry; a zombie would still show up (state Z), which counts as dead.
        var status = $"/proc/{pid}/status";
        return File.Exists(status) && !File.ReadAllText(status).Contains("State:\tZ", StringComparison.Ordinal);
    }
}
