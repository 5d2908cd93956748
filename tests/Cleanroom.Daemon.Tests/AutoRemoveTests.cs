using Cleanroom.Daemon.Sandboxes;
using Cleanroom.Daemon.State;
using Cleanroom.Daemon.Tests.Fakes;
using Cleanroom.Guest.Wire.Messages;

namespace Cleanroom.Daemon.Tests;

/// <summary>
/// A sandbox made for one exec lives as long as a client holds it, plus the detach grace; a kept sandbox lives until
/// it is terminated.
/// </summary>
public sealed class AutoRemoveTests
{
    private static readonly TimeSpan Grace = TimeSpan.FromMilliseconds(150);

    [Fact]
    public async Task An_auto_remove_sandbox_nobody_holds_is_removed_after_the_grace()
    {
        await using var daemon = new DaemonHarness(o => o with { DetachedGrace = Grace });

        var sandbox = await daemon.CreateAsync(new SandboxRequest(null, AutoRemove: true));
        await daemon.WaitReleasedAsync(sandbox.Id);

        var record = daemon.Store.GetSandbox(sandbox.Id)!;
        Assert.Equal(SandboxStatus.Stopped, record.Status);
        Assert.Contains("went away", record.StatusMessage, StringComparison.Ordinal);
        daemon.AssertNothingLeftOf(sandbox.Id);
    }

    [Fact]
    public async Task A_held_auto_remove_sandbox_stays_until_released_then_goes_after_the_grace()
    {
        await using var daemon = new DaemonHarness(o => o with { DetachedGrace = Grace });
        var sandbox = await daemon.CreateAsync(new SandboxRequest(null, AutoRemove: true));
        var released = daemon.Manager.WhenReleased(sandbox.Id);
        var hold = daemon.Manager.Hold(sandbox.Id);

        // Watching for something that must not happen takes time: several graces pass while the client holds it.
        await Task.WhenAny(released, Task.Delay(Waits.Quiet));
        Assert.False(released.IsCompleted, "the sandbox was removed while a client held it");
        var runner = await daemon.Manager.StartExecutionAsync(sandbox.Id, new ExecRequest { Argv = ["exit", "0"] }, attachStdin: false, CancellationToken.None);
        Assert.Equal(ExecutionStatus.Succeeded, (await runner.Finished.WaitAsync(Waits.Bound)).Status);

        hold.Dispose();

        await released.WaitAsync(Waits.Bound);
        Assert.Equal(SandboxStatus.Stopped, daemon.Store.GetSandbox(sandbox.Id)!.Status);
        daemon.AssertNothingLeftOf(sandbox.Id);
    }

    [Fact]
    public async Task Keeping_an_auto_remove_sandbox_cancels_its_removal_and_is_recorded()
    {
        await using var daemon = new DaemonHarness(o => o with { DetachedGrace = Grace });
        var sandbox = await daemon.CreateAsync(new SandboxRequest(null, AutoRemove: true));
        var released = daemon.Manager.WhenReleased(sandbox.Id);
        var hold = daemon.Manager.Hold(sandbox.Id);

        var kept = daemon.Manager.Keep(sandbox.Id);
        hold.Dispose(); // the timer armed by this release must find the sandbox kept

        await Task.WhenAny(released, Task.Delay(Waits.Quiet));
        Assert.False(released.IsCompleted, "a kept sandbox was removed for lack of a client");
        Assert.False(kept.AutoRemove);
        Assert.False(daemon.Store.GetSandbox(sandbox.Id)!.AutoRemove);
        await daemon.Manager.TerminateAsync(sandbox.Id, "test over");
    }

    [Fact]
    public async Task A_kept_sandbox_is_never_removed_for_lack_of_a_client()
    {
        await using var daemon = new DaemonHarness(o => o with { DetachedGrace = Grace });
        var sandbox = await daemon.CreateAsync(new SandboxRequest(null, AutoRemove: false));
        var released = daemon.Manager.WhenReleased(sandbox.Id);
        daemon.Manager.Hold(sandbox.Id).Dispose();

        await Task.WhenAny(released, Task.Delay(Waits.Quiet));

        Assert.False(released.IsCompleted, "a sandbox created with --keep was removed");
        Assert.Equal(SandboxStatus.Ready, daemon.Manager.Get(sandbox.Id).Status);
        Assert.DoesNotContain(daemon.Backend.Vms, v => v.Exited.IsCompleted);
    }
}
