using Cleanroom.Daemon.State;
using Cleanroom.Daemon.Tests.Fakes;
using Cleanroom.Guest.Wire;
using Cleanroom.Guest.Wire.Framing;
using Cleanroom.Guest.Wire.Messages;

namespace Cleanroom.Daemon.Tests;

/// <summary>
/// A cold boot runs the warm-up command (<c>true</c>) through a user command's path before the sandbox is ready, so
/// the first command does not pay for that path's first run. It is no execution of the user's, and a guest that does
/// not finish it in time costs only that: the command is killed and the sandbox is ready, saying why. A guest that
/// breaks the protocol during it fails the create.
/// </summary>
public sealed class ColdBootWarmUpTests
{
    [Fact]
    public async Task A_cold_boot_runs_true_before_the_sandbox_is_ready_and_records_no_execution()
    {
        await using var daemon = new DaemonHarness(o => o with { WarmUpColdBoots = true });

        var sandbox = await daemon.CreateAsync().WaitAsync(Waits.Bound);

        Assert.True(daemon.Backend.Programs.Started.TryRead(out var warmUp), "the guest ran no command before the sandbox was ready");
        Assert.Equal(["true"], warmUp.Argv);
        Assert.False(warmUp.Tool);
        Assert.Equal(SandboxStatus.Ready, sandbox.Status);
        Assert.Equal(["prepare", "vm", "agent", "warm-up"], sandbox.BootPhases.Select(p => p.Name));
        Assert.Empty(daemon.Store.ListExecutions(sandbox.Id));
        Assert.Equal("", sandbox.StatusMessage);
    }

    [Fact]
    public async Task A_warm_up_that_never_ends_is_killed_and_the_sandbox_is_ready_saying_so()
    {
        await using var daemon = new DaemonHarness(o => o with { WarmUpColdBoots = true, WarmUpTimeout = TimeSpan.FromMilliseconds(300) });
        daemon.Backend.Mode = GuestMode.Raw;
        var create = daemon.CreateAsync();
        var guest = new RawGuestPeer(await (await daemon.Backend.NextVmAsync()).RawGuest.WaitAsync(Waits.Bound));
        await guest.AnswerHelloAsync();

        // The guest starts the command and then never lets it end.
        var exec = await guest.ReadAsync(FrameType.Exec);
        Assert.Equal(["true"], ExecRequest.Decode(exec.Payload.Span, WireLimits.Default).Argv);
        await guest.Writer.WriteAsync(FrameType.Started, exec.StreamId, new StartedMessage(42).Encode(), CancellationToken.None);

        var kill = await guest.ReadAsync(FrameType.Signal);
        Assert.Equal(exec.StreamId, kill.StreamId);
        Assert.Equal(9, SignalMessage.Decode(kill.Payload.Span).Signal);
        await guest.Writer.WriteAsync(FrameType.Exit, exec.StreamId, new ExitMessage(137, 9, "").Encode(), CancellationToken.None);
        Assert.Equal(exec.StreamId, (await guest.ReadAsync(FrameType.Release)).StreamId);

        var sandbox = await create.WaitAsync(Waits.Bound);
        Assert.Equal(SandboxStatus.Ready, sandbox.Status);
        Assert.Equal("cold boot: the warm-up command did not finish within 0.3 s", sandbox.StatusMessage);
        Assert.Equal("warm-up", sandbox.BootPhases[^1].Name);
        Assert.Empty(daemon.Store.ListExecutions(sandbox.Id));
    }

    [Fact]
    public async Task A_guest_that_breaks_the_protocol_during_the_warm_up_fails_the_create_and_leaves_nothing()
    {
        await using var daemon = new DaemonHarness(o => o with { WarmUpColdBoots = true });
        daemon.Backend.Mode = GuestMode.Raw;
        var create = daemon.CreateAsync();
        var guest = new RawGuestPeer(await (await daemon.Backend.NextVmAsync()).RawGuest.WaitAsync(Waits.Bound));
        await guest.AnswerHelloAsync();
        var exec = await guest.ReadAsync(FrameType.Exec);

        // Output for a stream the host never opened.
        await guest.Writer.WriteAsync(FrameType.Stdout, exec.StreamId + 100, "x"u8.ToArray(), CancellationToken.None);

        var failure = await Assert.ThrowsAnyAsync<Exception>(() => create.WaitAsync(Waits.Bound));
        Assert.Contains("guest protocol error during the warm-up command", failure.Message, StringComparison.Ordinal);
        var sandbox = Assert.Single(daemon.Store.ListSandboxes(terminalToo: true, clientKey: null, limit: 10));
        Assert.Equal(SandboxStatus.Failed, sandbox.Status);
        daemon.AssertNothingLeftOf(sandbox.Id);
    }
}
