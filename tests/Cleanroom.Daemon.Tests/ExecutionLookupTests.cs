using Cleanroom.Api.V1;
using Cleanroom.Daemon.Services;
using Cleanroom.Daemon.State;
using Cleanroom.Daemon.Tests.Fakes;
using Cleanroom.Guest.Wire.Messages;
using Grpc.Core;
using ExecutionStatus = Cleanroom.Daemon.State.ExecutionStatus;
using SandboxStatus = Cleanroom.Daemon.State.SandboxStatus;

namespace Cleanroom.Daemon.Tests;

/// <summary>
/// GetExecution and ListExecutions over the real manager and state store: newest first across every sandbox, running
/// only unless asked for all, bounded however much the client asks for, and an id found without its sandbox.
/// </summary>
public sealed class ExecutionLookupTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Epoch = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly DaemonHarness _daemon = new();

    private ExecutionLookup Lookup => new(_daemon.Manager, _daemon.Store);

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _daemon.DisposeAsync().AsTask();

    [Fact]
    public void Without_a_sandbox_the_list_holds_every_sandboxs_executions_newest_first()
    {
        var (a, b) = (Sandbox(), Sandbox());
        var oldest = Execution(a, minute: 1, ExecutionStatus.Succeeded);
        var middle = Execution(b, minute: 2, ExecutionStatus.Failed);
        var newest = Execution(a, minute: 3, ExecutionStatus.Running);

        var all = Lookup.List(new ListExecutionsRequest { All = true });

        Assert.Equal([newest, middle, oldest], all.Executions.Select(e => e.ExecutionId));
        Assert.Equal([a, b, a], all.Executions.Select(e => e.SandboxId));
        Assert.False(all.Truncated);
        Assert.Equal([newest, oldest], Lookup.List(new ListExecutionsRequest { SandboxId = a, All = true }).Executions.Select(e => e.ExecutionId));
    }

    [Fact]
    public async Task Live_executions_of_a_real_sandbox_are_listed_and_found_without_their_sandbox()
    {
        var sandbox = await _daemon.CreateAsync();
        var done = await _daemon.Manager.StartExecutionAsync(sandbox.Id, new ExecRequest { Argv = ["echo", "hi"] }, attachStdin: false, CancellationToken.None);
        await done.Finished.WaitAsync(Waits.Bound);
        var waiting = await _daemon.Manager.StartExecutionAsync(sandbox.Id, new ExecRequest { Argv = ["wait"] }, attachStdin: false, CancellationToken.None);

        var running = Assert.Single(Lookup.List(new ListExecutionsRequest()).Executions);
        Assert.Equal((waiting.Record.Id, Api.V1.ExecutionStatus.Running), (running.ExecutionId, running.Status));
        Assert.Equal([waiting.Record.Id, done.Record.Id], Lookup.List(new ListExecutionsRequest { All = true }).Executions.Select(e => e.ExecutionId));
        Assert.Equal(ExecutionStatus.Succeeded, Lookup.Get(new GetExecutionRequest { ExecutionId = done.Record.Id }).Status);

        // The guest has started both commands (echo, then wait) before the wait is signalled.
        await _daemon.Backend.Programs.Started.ReadAsync().AsTask().WaitAsync(Waits.Bound);
        await _daemon.Backend.Programs.Started.ReadAsync().AsTask().WaitAsync(Waits.Bound);
        Assert.True(await waiting.SignalAsync(15, CancellationToken.None));
        await waiting.Finished.WaitAsync(Waits.Bound);
        Assert.Empty(Lookup.List(new ListExecutionsRequest()).Executions);
    }

    [Fact]
    public async Task A_running_execution_is_found_by_id_until_it_ends_or_its_sandbox_is_gone()
    {
        var (first, second) = (await _daemon.CreateAsync(), await _daemon.CreateAsync());
        var ending = await _daemon.Manager.StartExecutionAsync(first.Id, new ExecRequest { Argv = ["wait"] }, attachStdin: false, CancellationToken.None);
        var orphaned = await _daemon.Manager.StartExecutionAsync(second.Id, new ExecRequest { Argv = ["wait"] }, attachStdin: false, CancellationToken.None);
        await _daemon.Backend.Programs.Started.ReadAsync().AsTask().WaitAsync(Waits.Bound);
        await _daemon.Backend.Programs.Started.ReadAsync().AsTask().WaitAsync(Waits.Bound);
        Assert.Same(ending, _daemon.Manager.FindRunner(ending.Record.Id));
        Assert.Same(orphaned, _daemon.Manager.FindRunner(orphaned.Record.Id));

        Assert.True(await ending.SignalAsync(15, CancellationToken.None));
        await ending.Finished.WaitAsync(Waits.Bound);
        Assert.Null(_daemon.Manager.FindRunner(ending.Record.Id));
        Assert.Same(orphaned, _daemon.Manager.FindRunner(orphaned.Record.Id));

        await _daemon.Manager.TerminateAsync(second.Id, "test");
        await _daemon.WaitReleasedAsync(second.Id);
        Assert.Null(_daemon.Manager.FindRunner(orphaned.Record.Id));
        Assert.Equal(ExecutionStatus.Canceled, Lookup.Get(new GetExecutionRequest { ExecutionId = orphaned.Record.Id }).Status);
    }

    [Fact]
    public void Without_all_only_queued_and_running_executions_are_listed()
    {
        var (a, b) = (Sandbox(), Sandbox());
        var queued = Execution(a, minute: 1, ExecutionStatus.Queued);
        Execution(b, minute: 2, ExecutionStatus.Succeeded);
        var running = Execution(b, minute: 3, ExecutionStatus.Running);
        Execution(a, minute: 4, ExecutionStatus.TimedOut);

        var live = Lookup.List(new ListExecutionsRequest());

        Assert.Equal([running, queued], live.Executions.Select(e => e.ExecutionId));
        Assert.Equal([running], Lookup.List(new ListExecutionsRequest { SandboxId = b }).Executions.Select(e => e.ExecutionId));
    }

    [Fact]
    public void The_list_is_bounded_by_default_and_a_larger_limit_is_cut_to_the_maximum()
    {
        var sandbox = Sandbox();
        var ids = Enumerable.Range(0, ExecutionLookup.MaxLimit + 1).Select(i => Execution(sandbox, minute: i, ExecutionStatus.Succeeded)).ToList();
        ids.Reverse();

        var byDefault = Lookup.List(new ListExecutionsRequest { All = true });
        Assert.Equal(ids.Take(ExecutionLookup.DefaultLimit), byDefault.Executions.Select(e => e.ExecutionId));
        Assert.True(byDefault.Truncated);

        var huge = Lookup.List(new ListExecutionsRequest { All = true, Limit = int.MaxValue });
        Assert.Equal(ids.Take(ExecutionLookup.MaxLimit), huge.Executions.Select(e => e.ExecutionId));
        Assert.True(huge.Truncated);

        var newest = Lookup.List(new ListExecutionsRequest { All = true, Limit = 1 });
        Assert.Equal(ids[0], Assert.Single(newest.Executions).ExecutionId);
    }

    [Fact]
    public void A_limit_that_fits_everything_is_not_truncated()
    {
        var sandbox = Sandbox();
        Execution(sandbox, minute: 1, ExecutionStatus.Succeeded);
        Execution(sandbox, minute: 2, ExecutionStatus.Succeeded);

        var list = Lookup.List(new ListExecutionsRequest { All = true, Limit = 2 });

        Assert.Equal(2, list.Executions.Count);
        Assert.False(list.Truncated);
    }

    [Fact]
    public void A_negative_limit_is_an_invalid_argument()
    {
        var error = Assert.Throws<DaemonException>(() => Lookup.List(new ListExecutionsRequest { Limit = -1 }));
        Assert.Equal(StatusCode.InvalidArgument, error.Status);
    }

    [Fact]
    public void Listing_an_unknown_sandbox_is_sandbox_not_found()
    {
        var error = Assert.Throws<DaemonException>(() => Lookup.List(new ListExecutionsRequest { SandboxId = Ids.New() }));
        Assert.Equal((StatusCode.NotFound, ReasonCode.SandboxNotFound), (error.Status, error.Reason));
    }

    [Fact]
    public void An_execution_is_found_by_its_id_alone_and_not_under_another_sandbox()
    {
        var (a, b) = (Sandbox(), Sandbox());
        var id = Execution(a, minute: 1, ExecutionStatus.Failed, "make", "test");

        var found = Lookup.Get(new GetExecutionRequest { ExecutionId = id });
        Assert.Equal((a, ExecutionStatus.Failed), (found.SandboxId, found.Status));
        Assert.Equal(["make", "test"], found.Command);
        Assert.Equal(id, Lookup.Get(new GetExecutionRequest { ExecutionId = id, SandboxId = a }).Id);

        var elsewhere = Assert.Throws<DaemonException>(() => Lookup.Get(new GetExecutionRequest { ExecutionId = id, SandboxId = b }));
        Assert.Equal((StatusCode.NotFound, ReasonCode.ExecutionNotFound), (elsewhere.Status, elsewhere.Reason));
        Assert.StartsWith("execution_not_found: unknown execution", elsewhere.ToRpcException().Status.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("01kr7p9ksmfa7rmyypyqw2w8r0")]
    [InlineData("not-an-id")]
    [InlineData("")]
    public void An_unknown_execution_is_execution_not_found(string id)
    {
        var error = Assert.Throws<DaemonException>(() => Lookup.Get(new GetExecutionRequest { ExecutionId = id }));
        Assert.Equal((StatusCode.NotFound, ReasonCode.ExecutionNotFound), (error.Status, error.Reason));
    }

    private string Sandbox()
    {
        var id = Ids.New();
        _daemon.Store.UpsertSandbox(new SandboxRecord
        {
            Id = id,
            Status = SandboxStatus.Stopped,
            Backend = "fake",
            ImageRef = "busybox",
            WorkDir = _daemon.WorkDir(id),
            CreatedAt = Epoch,
            UpdatedAt = Epoch,
        });
        return id;
    }

    private string Execution(string sandboxId, int minute, ExecutionStatus status, params string[] command)
    {
        var id = Ids.New();
        _daemon.Store.UpsertExecution(new ExecutionRecord
        {
            Id = id,
            SandboxId = sandboxId,
            Status = status,
            Command = command.Length == 0 ? ["true"] : command,
            CreatedAt = Epoch.AddMinutes(minute),
        });
        return id;
    }
}
