using Cleanroom.Daemon.State;
using Cleanroom.Daemon.Tests.Fakes;
using Cleanroom.Guest.Wire.Framing;
using Cleanroom.Guest.Wire.Messages;

namespace Cleanroom.Daemon.Tests;

/// <summary>An execution whose start is cancelled ends FAILED with the reason; its record never stays QUEUED.</summary>
public sealed class ExecutionStartTests
{
    [Fact]
    public async Task A_start_cancelled_before_the_exec_is_sent_records_failed()
    {
        await using var daemon = new DaemonHarness();
        var sandbox = await daemon.CreateAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            daemon.Manager.StartExecutionAsync(sandbox.Id, new ExecRequest { Argv = ["echo", "never"] }, attachStdin: false, new CancellationToken(canceled: true)));

        var execution = Assert.Single(daemon.Store.ListExecutions(sandbox.Id));
        Assert.Equal(ExecutionStatus.Failed, execution.Status);
        Assert.Contains("cancelled", execution.Error, StringComparison.Ordinal);
        Assert.NotNull(execution.FinishedAt);
    }

    /// <summary>
    /// The guest stops reading: a 16 MiB stdin frame (the guest allowed frames that big) can never be written whole, so
    /// the channel stays busy and the next exec frame waits. Cancelling that wait ends the new execution FAILED.
    /// </summary>
    [Fact]
    public async Task A_start_cancelled_while_the_exec_frame_waits_for_a_guest_that_never_reads_records_failed()
    {
        await using var daemon = new DaemonHarness();
        daemon.Backend.Mode = GuestMode.Raw;
        var create = daemon.CreateAsync();
        var vm = await daemon.Backend.NextVmAsync();
        var guest = new RawGuestPeer(await vm.RawGuest.WaitAsync(Waits.Bound));
        await guest.AnswerHelloAsync(window: 16 << 20, maxFrame: 16 << 20);
        var sandbox = await create.WaitAsync(Waits.Bound);
        var first = await daemon.Manager.StartExecutionAsync(sandbox.Id, new ExecRequest { Argv = ["cat"] }, attachStdin: true, CancellationToken.None);
        await guest.ReadAsync(FrameType.Exec);
        var stuck = first.WriteStdinAsync(new byte[16 << 20], CancellationToken.None);
        using var caller = new CancellationTokenSource();

        var start = daemon.Manager.StartExecutionAsync(sandbox.Id, new ExecRequest { Argv = ["echo", "late"] }, attachStdin: false, caller.Token);
        Assert.False(start.IsCompleted, "the exec frame should wait behind the stuck stdin frame");
        var queued = Assert.Single(daemon.Store.ListExecutions(sandbox.Id), e => e.Id != first.Record.Id);
        Assert.Equal(ExecutionStatus.Queued, queued.Status);
        await caller.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => start.WaitAsync(Waits.Bound));
        var failed = daemon.Store.GetExecution(queued.Id)!;
        Assert.Equal(ExecutionStatus.Failed, failed.Status);
        Assert.Contains("cancelled", failed.Error, StringComparison.Ordinal);

        // The guest goes away: the stuck write fails and the sandbox is released.
        var released = daemon.Manager.WhenReleased(sandbox.Id);
        await guest.Stream.DisposeAsync();
        await released.WaitAsync(Waits.Bound);
        await Record.ExceptionAsync(() => stuck.WaitAsync(Waits.Bound));
        Assert.True(stuck.IsCompleted);
        Assert.True((await first.Finished.WaitAsync(Waits.Bound)).Status is ExecutionStatus.Failed or ExecutionStatus.Canceled);
        Assert.DoesNotContain(daemon.Store.ListExecutions(sandbox.Id), e => e.Status is ExecutionStatus.Queued or ExecutionStatus.Running);
        daemon.AssertNothingLeftOf(sandbox.Id);
    }
}
