using Cleanroom.Daemon.State;
using Cleanroom.Daemon.Tests.Fakes;
using Cleanroom.Guest.Wire.Messages;

namespace Cleanroom.Daemon.Tests;

/// <summary>A VM that dies on its own fails its sandbox with the reason and ends the commands running in it.</summary>
public sealed class GuestFailureTests
{
    [Fact]
    public async Task A_VM_that_dies_fails_the_sandbox_and_ends_its_running_commands()
    {
        await using var daemon = new DaemonHarness();
        var sandbox = await daemon.CreateAsync();
        var vm = Assert.Single(daemon.Backend.Vms);
        var runner = await daemon.Manager.StartExecutionAsync(sandbox.Id, new ExecRequest { Argv = ["wait"] }, attachStdin: false, CancellationToken.None);
        await daemon.Backend.Programs.Started.ReadAsync().AsTask().WaitAsync(Waits.Bound);
        var released = daemon.Manager.WhenReleased(sandbox.Id);

        vm.Crash(139, "Kernel panic - not syncing: fake\n");

        var execution = await runner.Finished.WaitAsync(Waits.Bound);
        Assert.True(execution.Status is ExecutionStatus.Canceled or ExecutionStatus.Failed, $"the command ended {execution.Status}");
        Assert.NotEqual(0, execution.ExitCode);
        Assert.NotEmpty(execution.Error);
        Assert.Equal(execution.Status, daemon.Store.GetExecution(execution.Id)!.Status);
        await released.WaitAsync(Waits.Bound);
        var record = daemon.Store.GetSandbox(sandbox.Id)!;
        Assert.Equal(SandboxStatus.Failed, record.Status);

        // A dying VMM closes the agent channel as it exits; the daemon reports whichever it notices first.
        Assert.True(
            record.StatusMessage.Contains("the VM exited unexpectedly (code 139)", StringComparison.Ordinal) && record.StatusMessage.Contains("Kernel panic", StringComparison.Ordinal)
            || record.StatusMessage.StartsWith("guest protocol error: ", StringComparison.Ordinal),
            "unexpected reason: " + record.StatusMessage);
        daemon.AssertNothingLeftOf(sandbox.Id);
    }

    [Fact]
    public async Task Escape_sequences_on_the_console_of_a_dead_VM_reach_its_status_escaped()
    {
        await using var daemon = new DaemonHarness();
        var sandbox = await daemon.CreateAsync();
        var released = daemon.Manager.WhenReleased(sandbox.Id);

        Assert.Single(daemon.Backend.Vms).Crash(139, "\u001b[2J\u001b]0;pwned\u0007\r\nstatus: forged\u202e\n");

        await released.WaitAsync(Waits.Bound);
        var record = daemon.Store.GetSandbox(sandbox.Id)!;
        Assert.Equal(SandboxStatus.Failed, record.Status);

        // The daemon waits for the VM's exit when the channel closes first, so the reason carries the console tail.
        Assert.Contains("the VM exited unexpectedly (code 139)", record.StatusMessage, StringComparison.Ordinal);
        Assert.Contains("\\x1b[2J", record.StatusMessage, StringComparison.Ordinal);
        Assert.Contains("\\u202e", record.StatusMessage, StringComparison.Ordinal);
        Assert.DoesNotContain(record.StatusMessage, c => char.IsControl(c) || c == '\u202e');
        daemon.AssertNothingLeftOf(sandbox.Id);
    }

    [Fact]
    public async Task A_VM_that_dies_during_boot_fails_the_create_with_the_reason()
    {
        await using var daemon = new DaemonHarness();
        daemon.Backend.HoldHellos = true;
        var create = daemon.CreateAsync();
        var hold = await daemon.Backend.NextHeldHelloAsync();

        Assert.Single(daemon.Backend.Vms).Crash(1, "qemu: could not load kernel\n");

        var error = await Assert.ThrowsAsync<DaemonException>(() => create.WaitAsync(Waits.Bound));
        Assert.Equal(ReasonCode.RuntimeLaunchFailed, error.Reason);
        var record = daemon.Store.GetSandbox(hold.SandboxId)!;
        Assert.Equal(SandboxStatus.Failed, record.Status);

        // As above: the exit (with the console) or the closed channel, whichever the daemon notices first.
        Assert.True(
            record.StatusMessage.Contains("exited during boot (code 1)", StringComparison.Ordinal) && record.StatusMessage.Contains("could not load kernel", StringComparison.Ordinal)
            || record.StatusMessage.Contains("connection", StringComparison.Ordinal),
            "unexpected reason: " + record.StatusMessage);
        daemon.AssertNothingLeftOf(hold.SandboxId);
    }
}
