using Cleanroom.Daemon.State;
using Cleanroom.Daemon.Tests.Fakes;
using Grpc.Core;
using Xunit.Abstractions;

namespace Cleanroom.Daemon.Tests;

/// <summary>
/// A sandbox is owned by the daemon from admission on: a terminate, or the creating client going away, reaches it
/// while it boots, and the boot undoes everything it made.
/// </summary>
public sealed class BootTerminationTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Terminate_while_the_VM_starts_aborts_the_create_and_records_stopped()
    {
        await using var daemon = new DaemonHarness();
        daemon.Backend.HoldStarts = true;
        var create = daemon.CreateAsync();
        var hold = await daemon.Backend.NextHeldStartAsync();
        Assert.Equal(SandboxStatus.Provisioning, daemon.Store.GetSandbox(hold.SandboxId)!.Status);
        Assert.True(Directory.Exists(daemon.WorkDir(hold.SandboxId)));

        var terminated = await daemon.Manager.TerminateAsync(hold.SandboxId, "user asked").WaitAsync(Waits.Bound);

        var error = await Assert.ThrowsAsync<DaemonException>(() => create.WaitAsync(Waits.Bound));
        Assert.Equal(StatusCode.Aborted, error.Status);
        Assert.Equal(SandboxStatus.Stopped, terminated.Status);
        var record = daemon.Store.GetSandbox(hold.SandboxId)!;
        Assert.Equal((SandboxStatus.Stopped, "terminated while booting"), (record.Status, record.StatusMessage));
        Assert.Empty(daemon.Backend.Vms); // cancelled before the VMM existed
        daemon.AssertNothingLeftOf(hold.SandboxId);
    }

    [Fact]
    public async Task Terminate_while_the_guest_boots_stops_the_VM()
    {
        await using var daemon = new DaemonHarness();
        daemon.Backend.HoldHellos = true;
        var create = daemon.CreateAsync();
        var hold = await daemon.Backend.NextHeldHelloAsync();
        var vm = Assert.Single(daemon.Backend.Vms);
        Assert.False(vm.Exited.IsCompleted);

        await daemon.Manager.TerminateAsync(hold.SandboxId, "user asked").WaitAsync(Waits.Bound);

        var error = await Assert.ThrowsAsync<DaemonException>(() => create.WaitAsync(Waits.Bound));
        Assert.Equal(StatusCode.Aborted, error.Status);
        var record = daemon.Store.GetSandbox(hold.SandboxId)!;
        Assert.Equal((SandboxStatus.Stopped, "terminated while booting"), (record.Status, record.StatusMessage));
        Assert.True(vm.IsDisposed, "the booting VM was not disposed");
        daemon.AssertNothingLeftOf(hold.SandboxId);
    }

    /// <summary>
    /// The guest answers just as the terminate claims the sandbox: whichever wins, the sandbox ends STOPPED (never
    /// READY) and its VM is released. Many rounds, so both orders happen.
    /// </summary>
    [Fact]
    public async Task A_boot_finishing_as_terminate_claims_it_never_leaves_a_ready_sandbox_or_a_running_VM()
    {
        await using var daemon = new DaemonHarness();
        daemon.Backend.HoldHellos = true;
        var outcomes = new Dictionary<string, int>();
        for (var round = 0; round < 150; round++)
        {
            var create = daemon.CreateAsync();
            var hold = await daemon.Backend.NextHeldHelloAsync();
            var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var release = Task.Run(async () =>
            {
                await go.Task;
                hold.Release();
            });
            var terminate = Task.Run(async () =>
            {
                await go.Task;
                return await daemon.Manager.TerminateAsync(hold.SandboxId, "raced");
            });
            go.SetResult();

            await release.WaitAsync(Waits.Bound);
            await Task.WhenAny(Task.WhenAll(terminate, create), Task.Delay(Waits.Bound));
            Assert.True(terminate.IsCompleted && create.IsCompleted, $"round {round} hung: terminate done={terminate.IsCompleted}, create done={create.IsCompleted}; {Describe(daemon, hold.SandboxId)}");
            var terminated = await terminate;
            var createError = await Record.ExceptionAsync(() => create.WaitAsync(Waits.Bound));
            var outcome = createError is null ? "ready, then stopped" : "aborted while booting";
            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;

            Assert.True(createError is null or DaemonException { Status: StatusCode.Aborted }, $"round {round}: {createError}");
            Assert.Equal(SandboxStatus.Stopped, terminated.Status);
            Assert.Equal(SandboxStatus.Stopped, daemon.Manager.Get(hold.SandboxId).Status);
            Assert.Equal(SandboxStatus.Stopped, daemon.Store.GetSandbox(hold.SandboxId)!.Status);
            daemon.AssertNothingLeftOf(hold.SandboxId);
        }

        Assert.Empty(daemon.Manager.List(all: false, clientKey: null, limit: 100));
        output.WriteLine(string.Join(", ", outcomes.Select(o => $"{o.Key}: {o.Value}")));
    }

    private static string Describe(DaemonHarness daemon, string sandboxId) =>
        string.Join("; ", daemon.Backend.Vms.Where(v => v.Id == sandboxId).Select(v => $"vm exited={v.Exited.IsCompleted} disposed={v.IsDisposed}")) is { Length: > 0 } vms ? vms : "no vm";

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_create_cancelled_by_its_caller_records_failed_and_leaves_nothing(bool vmStarted)
    {
        await using var daemon = new DaemonHarness();
        daemon.Backend.HoldStarts = !vmStarted;
        daemon.Backend.HoldHellos = vmStarted;
        using var caller = new CancellationTokenSource();
        var create = daemon.CreateAsync(cancellationToken: caller.Token);
        var hold = vmStarted ? await daemon.Backend.NextHeldHelloAsync() : await daemon.Backend.NextHeldStartAsync();

        await caller.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => create.WaitAsync(Waits.Bound));
        var record = daemon.Store.GetSandbox(hold.SandboxId)!;
        Assert.Equal(SandboxStatus.Failed, record.Status);
        Assert.Contains("the create was cancelled", record.StatusMessage, StringComparison.Ordinal);
        Assert.Equal(vmStarted ? 1 : 0, daemon.Backend.Vms.Count);
        daemon.AssertNothingLeftOf(hold.SandboxId);
        Assert.Empty(daemon.Manager.List(all: false, clientKey: null, limit: 100));
    }
}
