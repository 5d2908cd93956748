using System.Diagnostics;
using Cleanroom.Api.V1;
using Grpc.Core;

namespace Cleanroom.IntegrationTests;

/// <summary>
/// A guest that writes until the host's disk is full: the daemon's state lives on a small file system of its own (an
/// ext4 image on a loop device), and the free-space reserve must stop the output before ENOSPC, refuse new sandboxes
/// with host_disk_low, and keep every record intact.
/// </summary>
[Collection(DaemonTestGroup.Name)]
public sealed class DiskFullTests : IAsyncLifetime
{
    private const long Reserve = 48L << 20;
    private readonly string _root = Directory.CreateTempSubdirectory("cr-diskfull-").FullName;
    private string _mount = "";
    private TestDaemon _daemon = null!;

    public async Task InitializeAsync()
    {
        var image = Path.Combine(_root, "state.ext4");
        _mount = Directory.CreateDirectory(Path.Combine(_root, "mnt")).FullName;
        await using (var file = File.Create(image))
        {
            file.SetLength(160L << 20);
        }

        await RunAsync("mkfs.ext4", "-q", "-F", "-m", "0", image);
        await RunAsync("mount", "-o", "loop", image, _mount);
        var state = Directory.CreateDirectory(Path.Combine(_mount, "state")).FullName;
        _daemon = new TestDaemon(DaemonFixture.RequireAssets(RepoPaths.Assets), o => o with { MinFreeDiskBytes = Reserve }, stateDir: state);
        await _daemon.StartAsync();
    }

    public async Task DisposeAsync()
    {
        try
        {
            await _daemon.DisposeAsync();
        }
        finally
        {
            await RunAsync("umount", _mount);
            Directory.Delete(_root, recursive: true);
        }
    }

    [Fact]
    public async Task A_guest_filling_the_disk_is_stopped_at_the_reserve_and_the_records_survive()
    {
        var id = (await _daemon.Sandboxes.CreateSandboxAsync(new CreateSandboxRequest())).Sandbox.SandboxId;

        // 250 MiB of output into a 160 MiB file system.
        var result = await ExecResult.RunAsync(_daemon.Executions, id, ["dd", "if=/dev/zero", "bs=64k", "count=4000"]);

        Assert.Equal(ExecutionStatus.Failed, result.Exit.Status);
        Assert.StartsWith("host disk low", result.Exit.Message, StringComparison.Ordinal);
        Assert.Contains("[cleanroom] output cut at byte", result.StderrText, StringComparison.Ordinal);
        Assert.True(new DriveInfo(_mount).AvailableFreeSpace > Reserve / 2, "the reserve must keep the file system from filling up");

        var refused = await Assert.ThrowsAsync<RpcException>(async () => await _daemon.Sandboxes.CreateSandboxAsync(new CreateSandboxRequest()));
        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.StartsWith("host_disk_low:", refused.Status.Detail, StringComparison.Ordinal);

        // Records intact and still written: the sandbox, its execution, and a new command's row.
        var sandbox = (await _daemon.Sandboxes.GetSandboxAsync(new GetSandboxRequest { SandboxId = id })).Sandbox;
        Assert.Equal(SandboxStatus.Ready, sandbox.Status);
        var execution = (await _daemon.Executions.GetExecutionAsync(new GetExecutionRequest { ExecutionId = result.ExecutionId })).Execution;
        Assert.Equal(ExecutionStatus.Failed, execution.Status);

        // Removing the sandbox removes its output, which frees the space: creates work again.
        await _daemon.Sandboxes.TerminateSandboxAsync(new TerminateSandboxRequest { SandboxId = id });
        var again = (await _daemon.Sandboxes.CreateSandboxAsync(new CreateSandboxRequest())).Sandbox;
        Assert.Equal(SandboxStatus.Ready, again.Status);
        await _daemon.Sandboxes.TerminateSandboxAsync(new TerminateSandboxRequest { SandboxId = again.SandboxId });
    }

    private static async Task RunAsync(string name, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(name, args) { RedirectStandardError = true })!;
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"{name} failed: {stderr}");
    }
}
