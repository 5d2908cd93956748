using Cleanroom.Daemon.State;
using Cleanroom.Daemon.Tests.Fakes;
using Cleanroom.Guest.Wire.Framing;
using Cleanroom.Guest.Wire.Messages;

namespace Cleanroom.Daemon.Tests;

/// <summary>
/// A guest that speaks the protocol badly on purpose. Measures the daemon's heap, so it runs alone
/// (<see cref="SerialGroup"/>): other tests' allocations would blur the figure.
/// </summary>
[Collection(SerialGroup.Name)]
public sealed class HostileGuestTests
{
    [Fact]
    public async Task A_flood_of_empty_frames_fails_the_sandbox_quickly_without_growing_the_daemon()
    {
        await using var daemon = new DaemonHarness();
        daemon.Backend.Mode = GuestMode.Raw;
        var create = daemon.CreateAsync();
        var vm = await daemon.Backend.NextVmAsync();
        var guest = new RawGuestPeer(await vm.RawGuest.WaitAsync(Waits.Bound));
        await guest.AnswerHelloAsync();
        var sandbox = await create.WaitAsync(Waits.Bound);
        var runner = await daemon.Manager.StartExecutionAsync(sandbox.Id, new ExecRequest { Argv = ["anything"] }, attachStdin: false, CancellationToken.None);
        var exec = await guest.ReadAsync(FrameType.Exec);
        var released = daemon.Manager.WhenReleased(sandbox.Id);

        // Ten million header-only stdout frames for the running command, in 1 MiB writes, until the daemon hangs up.
        var batch = new byte[(1 << 20) / FrameHeader.Size * FrameHeader.Size];
        for (var offset = 0; offset < batch.Length; offset += FrameHeader.Size)
        {
            new FrameHeader(0, FrameType.Stdout, exec.StreamId).Write(batch.AsSpan(offset));
        }

        var heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        var flood = Task.Run(async () =>
        {
            for (long sent = 0; sent < 10_000_000; sent += batch.Length / FrameHeader.Size)
            {
                await guest.Stream.WriteAsync(batch);
            }
        });

        await released.WaitAsync(Waits.Bound);
        await Record.ExceptionAsync(() => flood.WaitAsync(Waits.Bound)); // fails once the daemon closed the channel
        var growth = GC.GetTotalMemory(forceFullCollection: true) - heapBefore;

        Assert.True(flood.IsCompleted, "the flooding guest was not cut off");
        var record = daemon.Store.GetSandbox(sandbox.Id)!;
        Assert.Equal(SandboxStatus.Failed, record.Status);
        Assert.Contains("guest protocol error", record.StatusMessage, StringComparison.Ordinal);
        Assert.Contains("empty data frame", record.StatusMessage, StringComparison.Ordinal);
        var execution = await runner.Finished.WaitAsync(Waits.Bound);
        Assert.True(execution.Status is ExecutionStatus.Failed or ExecutionStatus.Canceled, $"the command ended {execution.Status}");
        Assert.True(growth < 4 << 20, $"the daemon's heap grew by {growth} bytes");
        daemon.AssertNothingLeftOf(sandbox.Id);
    }
}
