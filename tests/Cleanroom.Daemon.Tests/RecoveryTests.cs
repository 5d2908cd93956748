using Cleanroom.Daemon.State;

namespace Cleanroom.Daemon.Tests;

/// <summary>A daemon starting over what a crashed predecessor left: live sandboxes, running commands, work directories.</summary>
public sealed class RecoveryTests
{
    [Fact]
    public async Task Recovery_reaps_the_backend_leftovers_before_it_deletes_their_work_directories_and_fails_what_was_live()
    {
        await using var daemon = new DaemonHarness();
        var live = Sandbox(SandboxStatus.Ready, "");
        var booting = Sandbox(SandboxStatus.Provisioning, "");
        var stopped = Sandbox(SandboxStatus.Stopped, "terminated by its user");
        daemon.Store.UpsertSandbox(live);
        daemon.Store.UpsertSandbox(booting);
        daemon.Store.UpsertSandbox(stopped);
        var running = new ExecutionRecord { Id = Ids.New(), SandboxId = live.Id, Status = ExecutionStatus.Running, Command = ["sleep", "1000"], CreatedAt = DateTimeOffset.UtcNow };
        daemon.Store.UpsertExecution(running);
        Directory.CreateDirectory(Path.Combine(daemon.WorkDir(live.Id), "run"));

        await daemon.Manager.RecoverAsync(CancellationToken.None);

        // The backend finds a crashed daemon's VMs through their work directories: it must see them before they go.
        var reap = Assert.Single(daemon.Backend.Reaps);
        Assert.Equal(Path.Combine(daemon.Options.StateDir, "sandboxes"), reap.WorkRoot);
        Assert.Equal([live.Id], reap.WorkDirsPresent);
        Assert.False(Directory.Exists(daemon.WorkDir(live.Id)));

        var failed = daemon.Store.GetSandbox(live.Id)!;
        Assert.Equal(SandboxStatus.Failed, failed.Status);
        // This backend cannot take a running VM over (the QEMU one can: the integration tests restart a real daemon).
        Assert.Contains("could not be taken over after a daemon restart: the fake backend cannot", failed.StatusMessage, StringComparison.Ordinal);
        var neverReady = daemon.Store.GetSandbox(booting.Id)!;
        Assert.Equal((SandboxStatus.Failed, "the daemon stopped while the sandbox was provisioning"), (neverReady.Status, neverReady.StatusMessage));
        var lost = daemon.Store.GetExecution(running.Id)!;
        Assert.Equal(ExecutionStatus.Failed, lost.Status);
        Assert.NotNull(lost.FinishedAt);
        Assert.Equal((SandboxStatus.Stopped, "terminated by its user"), (daemon.Store.GetSandbox(stopped.Id)!.Status, daemon.Store.GetSandbox(stopped.Id)!.StatusMessage));

        SandboxRecord Sandbox(SandboxStatus status, string message)
        {
            var id = Ids.New();
            return new SandboxRecord
            {
                Id = id,
                Status = status,
                StatusMessage = message,
                Backend = "fake",
                ImageRef = "busybox",
                WorkDir = daemon.WorkDir(id),
                CreatedAt = DateTimeOffset.UtcNow,
                UpdatedAt = DateTimeOffset.UtcNow,
            };
        }
    }
}
