using Cleanroom.Daemon.State;
using Cleanroom.Daemon.Tests.Fakes;
using Cleanroom.Guest.Wire.Messages;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cleanroom.Daemon.Tests;

/// <summary>
/// The daemon's periodic pruning over the real manager, state database and execution logs: records of ended sandboxes
/// and finished executions go once older than the record retention, or at once beyond the newest N, with any output
/// they still have; live sandboxes and running commands stay whatever their age.
/// </summary>
public sealed class RetentionTests
{
    [Fact]
    public async Task Records_that_ended_longer_ago_than_the_retention_go_and_live_ones_stay()
    {
        await using var daemon = new DaemonHarness();
        var retention = RetentionOf(daemon);
        var live = await daemon.CreateAsync();
        var finished = await RunAsync(daemon, live.Id, "echo", "kept until it ages");
        var ended = await daemon.CreateAsync();
        var endedExecution = await RunAsync(daemon, ended.Id, "echo", "bye");
        await daemon.Manager.TerminateAsync(ended.Id, "removed by the test");
        var running = await daemon.Manager.StartExecutionAsync(live.Id, new ExecRequest { Argv = ["wait"] }, attachStdin: false, CancellationToken.None);

        // Young: nothing goes.
        var (_, none) = retention.PruneOnce(DateTimeOffset.UtcNow);
        Assert.Empty(none.Sandboxes);
        Assert.Empty(none.Executions);
        Assert.NotNull(daemon.Store.GetSandbox(ended.Id));
        Assert.True(File.Exists(LogOf(daemon, live.Id, finished)));

        // A month and a day later (the default retention is 30 days).
        var (_, pruned) = retention.PruneOnce(DateTimeOffset.UtcNow + TimeSpan.FromDays(31));

        Assert.Equal([ended.Id], pruned.Sandboxes);
        Assert.Equal(new[] { endedExecution, finished }.Order(StringComparer.Ordinal), pruned.Executions.Select(e => e.ExecutionId).Order(StringComparer.Ordinal));
        Assert.Null(daemon.Store.GetSandbox(ended.Id));
        Assert.Null(daemon.Store.GetExecution(endedExecution));
        Assert.Null(daemon.Store.GetExecution(finished));
        Assert.False(File.Exists(LogOf(daemon, live.Id, finished)));
        Assert.Equal(SandboxStatus.Ready, daemon.Store.GetSandbox(live.Id)!.Status);
        Assert.Equal(ExecutionStatus.Running, daemon.Store.GetExecution(running.Record.Id)!.Status);
        Assert.True(File.Exists(LogOf(daemon, live.Id, running.Record.Id)), "the running command's output went");

        await daemon.Backend.Programs.Started.ReadAsync().AsTask().WaitAsync(Waits.Bound); // echo
        await daemon.Backend.Programs.Started.ReadAsync().AsTask().WaitAsync(Waits.Bound); // echo
        await daemon.Backend.Programs.Started.ReadAsync().AsTask().WaitAsync(Waits.Bound); // wait
        Assert.True(await running.SignalAsync(15, CancellationToken.None));
        await running.Finished.WaitAsync(Waits.Bound);
    }

    [Fact]
    public async Task A_client_that_ends_sandboxes_and_commands_faster_than_the_retention_ages_them_is_held_to_the_newest()
    {
        await using var daemon = new DaemonHarness(o => o with { MaxEndedSandboxRecords = 3, MaxFinishedExecutionRecords = 4 });
        var retention = RetentionOf(daemon);
        var live = await daemon.CreateAsync();
        var executions = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            executions.Add(await RunAsync(daemon, live.Id, "echo", $"command {i}"));
        }

        var ended = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            var sandbox = await daemon.CreateAsync();
            await daemon.Manager.TerminateAsync(sandbox.Id, "removed by the test");
            ended.Add(sandbox.Id);
        }

        var (_, pruned) = retention.PruneOnce(DateTimeOffset.UtcNow);

        Assert.Equal(ended[..2].Order(StringComparer.Ordinal), pruned.Sandboxes.Order(StringComparer.Ordinal));
        var left = daemon.Store.ListSandboxes(terminalToo: true, clientKey: null, limit: 100).Select(s => s.Id);
        Assert.Equal(ended[2..].Append(live.Id).Order(StringComparer.Ordinal), left.Order(StringComparer.Ordinal));
        Assert.Equal(executions[..2].Order(StringComparer.Ordinal), pruned.Executions.Select(e => e.ExecutionId).Order(StringComparer.Ordinal));
        Assert.Equal(executions[2..].Order(StringComparer.Ordinal), daemon.Store.ListExecutions(live.Id).Select(e => e.Id).Order(StringComparer.Ordinal));
        Assert.All(executions[..2], id => Assert.False(File.Exists(LogOf(daemon, live.Id, id)), "a pruned execution's output is still there"));
        Assert.All(executions[2..], id => Assert.True(File.Exists(LogOf(daemon, live.Id, id)), "a kept execution lost its output"));

        // A second pass finds nothing more to do.
        var (_, again) = retention.PruneOnce(DateTimeOffset.UtcNow);
        Assert.Empty(again.Sandboxes);
        Assert.Empty(again.Executions);
    }

    private static Retention RetentionOf(DaemonHarness daemon) =>
        new(daemon.Options, daemon.Store, daemon.Logs, daemon.Manager, NullLogger<Retention>.Instance);

    private static string LogOf(DaemonHarness daemon, string sandboxId, string executionId) => daemon.Logs.PathOf(sandboxId, executionId);

    private static async Task<string> RunAsync(DaemonHarness daemon, string sandboxId, params string[] argv)
    {
        var runner = await daemon.Manager.StartExecutionAsync(sandboxId, new ExecRequest { Argv = argv }, attachStdin: false, CancellationToken.None);
        await runner.Finished.WaitAsync(Waits.Bound);
        return runner.Record.Id;
    }
}
