using Cleanroom.Daemon.State;
using Cleanroom.Daemon.Tests.Fakes;
using Cleanroom.Guest.Wire.Messages;

namespace Cleanroom.Daemon.Tests;

/// <summary>The ordinary life of a sandbox: create, run a command, terminate, and nothing left behind.</summary>
public sealed class SandboxLifecycleTests
{
    [Fact]
    public async Task Create_exec_and_terminate_leave_only_the_records()
    {
        await using var daemon = new DaemonHarness();

        var created = await daemon.CreateAsync();
        Assert.Equal(SandboxStatus.Ready, created.Status);
        Assert.Equal(SandboxStatus.Ready, daemon.Store.GetSandbox(created.Id)!.Status);
        var vm = Assert.Single(daemon.Backend.Vms);
        Assert.Equal(created.Id, vm.Id);
        Assert.True(Directory.Exists(daemon.WorkDir(created.Id)));

        var runner = await daemon.Manager.StartExecutionAsync(created.Id, new ExecRequest { Argv = ["echo", "hello", "world"] }, attachStdin: false, CancellationToken.None);
        var finished = await runner.Finished.WaitAsync(Waits.Bound);
        Assert.Equal((ExecutionStatus.Succeeded, 0), (finished.Status, finished.ExitCode));
        Assert.Equal(ExecutionStatus.Succeeded, daemon.Store.GetExecution(finished.Id)!.Status);
        using (var log = daemon.Manager.OpenFinishedLog(finished))
        {
            var output = await LogContents.ReadAsync(log);
            Assert.Equal("hello world\n", output.StdoutText);
            Assert.Empty(output.Stderr);
        }

        var stopped = await daemon.Manager.TerminateAsync(created.Id, "the test is done");

        Assert.Equal(SandboxStatus.Stopped, stopped.Status);
        Assert.Equal(SandboxStatus.Stopped, daemon.Store.GetSandbox(created.Id)!.Status);
        Assert.Equal(0, await vm.Exited.WaitAsync(Waits.Bound)); // the guest was asked to power off, and did
        daemon.AssertNothingLeftOf(created.Id);
        Assert.False(Directory.Exists(daemon.LogsDir(created.Id)), "the sandbox's execution logs are still there");
        Assert.Equal(ExecutionStatus.Succeeded, daemon.Store.GetExecution(finished.Id)!.Status); // the record stays
    }

    [Fact]
    public async Task A_signal_ends_a_waiting_command_as_canceled()
    {
        await using var daemon = new DaemonHarness();
        var sandbox = await daemon.CreateAsync();
        var runner = await daemon.Manager.StartExecutionAsync(sandbox.Id, new ExecRequest { Argv = ["wait"] }, attachStdin: false, CancellationToken.None);
        await daemon.Backend.Programs.Started.ReadAsync().AsTask().WaitAsync(Waits.Bound);

        Assert.True(await runner.SignalAsync(2, CancellationToken.None));
        var finished = await runner.Finished.WaitAsync(Waits.Bound);

        Assert.Equal((ExecutionStatus.Canceled, 130, 2), (finished.Status, finished.ExitCode, finished.Signal));
    }
}
