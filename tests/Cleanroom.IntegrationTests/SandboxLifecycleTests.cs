using Cleanroom.Api.V1;
using Grpc.Core;

namespace Cleanroom.IntegrationTests;

/// <summary>Sandboxes that are created, broken and removed: each test boots its own VM.</summary>
[Collection(DaemonTestGroup.Name)]
public sealed class SandboxLifecycleTests(DaemonFixture daemon)
{
    [Fact]
    public async Task Create_gives_a_ready_sandbox_listed_and_inspectable()
    {
        var created = (await daemon.Sandboxes.CreateSandboxAsync(new CreateSandboxRequest())).Sandbox;

        Assert.Matches("^[0-9a-z]{26}$", created.SandboxId);
        Assert.Equal(SandboxStatus.Ready, created.Status);
        var listed = (await daemon.Sandboxes.ListSandboxesAsync(new ListSandboxesRequest())).Sandboxes;
        Assert.Contains(listed, s => s.SandboxId == created.SandboxId);
        var inspected = (await daemon.Sandboxes.GetSandboxAsync(new GetSandboxRequest { SandboxId = created.SandboxId })).Sandbox;
        Assert.Equal("qemu", inspected.Backend);

        await daemon.Sandboxes.TerminateSandboxAsync(new TerminateSandboxRequest { SandboxId = created.SandboxId });
        var after = (await daemon.Sandboxes.GetSandboxAsync(new GetSandboxRequest { SandboxId = created.SandboxId })).Sandbox;
        Assert.Equal(SandboxStatus.Stopped, after.Status);
        Assert.False(Directory.Exists(Path.Combine(daemon.StateDir, "sandboxes", created.SandboxId)), "the sandbox's work directory (overlay, sockets) must be gone");
        Assert.Empty(daemon.Daemon.QemuProcesses(created.SandboxId));
    }

    [Fact]
    public async Task An_idle_sandbox_has_its_pit_stopped_and_proactive_compaction_off()
    {
        var id = (await daemon.Sandboxes.CreateSandboxAsync(new CreateSandboxRequest())).Sandbox.SandboxId;
        try
        {
            // Both would cost the host CPU while the sandbox does nothing (the agent's LegacyPitTimer, ProactiveCompaction).
            var sysctl = await ExecResult.RunAsync(daemon, id, ["cat", "/proc/sys/vm/compaction_proactiveness"]);
            Assert.Equal("0\n", sysctl.StdoutText);
            var console = await File.ReadAllTextAsync(Path.Combine(daemon.StateDir, "sandboxes", id, "console.log"));
            Assert.Contains("idle: PIT stopped; proactive compaction off", console, StringComparison.Ordinal);
        }
        finally
        {
            await daemon.Sandboxes.TerminateSandboxAsync(new TerminateSandboxRequest { SandboxId = id });
        }
    }

    [Fact]
    public async Task Removing_a_sandbox_while_a_command_runs_ends_the_command()
    {
        var id = (await daemon.Sandboxes.CreateSandboxAsync(new CreateSandboxRequest())).Sandbox.SandboxId;
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = ExecResult.RunAsync(daemon, id, ["sh", "-c", "echo started; sleep 60"], observe: e =>
        {
            if (e.PayloadCase == ExecutionStreamEvent.PayloadOneofCase.Stdout)
            {
                started.TrySetResult();
            }
        });
        await Task.WhenAny(started.Task, running).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(started.Task.IsCompleted, "the command ended before it wrote its first line");

        await daemon.Sandboxes.TerminateSandboxAsync(new TerminateSandboxRequest { SandboxId = id });
        var result = await running.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(ExecutionStatus.Canceled, result.Exit.Status);
        Assert.NotEqual(0, result.Exit.ExitCode);
        Assert.Empty(daemon.Daemon.QemuProcesses(id));
    }

    [Fact]
    public async Task Exec_in_an_unknown_sandbox_is_not_found()
    {
        var request = new CreateExecutionRequest { SandboxId = "01aaaaaaaaaaaaaaaaaaaaaaaa" };
        request.Command.Add("true");

        var error = await Assert.ThrowsAsync<RpcException>(async () => await daemon.Executions.CreateExecutionAsync(request));

        Assert.Equal(StatusCode.NotFound, error.StatusCode);
    }

    [Fact]
    public async Task Records_survive_a_daemon_restart()
    {
        var id = (await daemon.Sandboxes.CreateSandboxAsync(new CreateSandboxRequest())).Sandbox.SandboxId;
        var executionId = (await ExecResult.RunAsync(daemon, id, ["echo", "before restart"])).ExecutionId;

        await daemon.StopDaemonAsync();
        Assert.Empty(daemon.Daemon.QemuProcesses(id));
        await daemon.StartDaemonAsync();

        var sandbox = (await daemon.Sandboxes.GetSandboxAsync(new GetSandboxRequest { SandboxId = id })).Sandbox;
        Assert.Equal(SandboxStatus.Stopped, sandbox.Status);
        var execution = (await daemon.Executions.GetExecutionAsync(new GetExecutionRequest { ExecutionId = executionId })).Execution;
        Assert.Equal(ExecutionStatus.Succeeded, execution.Status);

        // The shared sandbox was stopped with the old daemon; give later tests a fresh one.
        await daemon.ReplaceSharedSandboxAsync();
    }
}
