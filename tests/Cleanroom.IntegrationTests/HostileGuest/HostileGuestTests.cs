using System.Diagnostics;
using Cleanroom.Api.V1;
using Grpc.Core;

namespace Cleanroom.IntegrationTests.HostileGuest;

/// <summary>
/// A real VM whose guest completes the handshake and then floods the channel with random bytes: the daemon must
/// mark that sandbox FAILED with a protocol error, kill its VM, and keep serving everything else. The flood meets the
/// create's last step, the warm-up command, so the create itself fails, saying why.
/// </summary>
[Collection(DaemonTestGroup.Name)]
public sealed class HostileGuestTests : IAsyncLifetime
{
    private readonly string _assets = Directory.CreateTempSubdirectory("cr-hostile-assets-").FullName;
    private TestDaemon _daemon = null!;

    public async Task InitializeAsync()
    {
        var script = Path.Combine(AppContext.BaseDirectory, "HostileGuest", "make-hostile-assets.sh");
        using var build = Process.Start(new ProcessStartInfo("bash", [script, DaemonFixture.RequireAssets(RepoPaths.Assets), _assets]) { RedirectStandardError = true })!;
        var stderr = await build.StandardError.ReadToEndAsync();
        await build.WaitForExitAsync();
        Assert.True(build.ExitCode == 0, "building the hostile assets failed: " + stderr);
        _daemon = new TestDaemon(_assets);
        await _daemon.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _daemon.DisposeAsync();
        Directory.Delete(_assets, recursive: true);
    }

    [Fact]
    public async Task A_guest_that_floods_garbage_fails_its_sandbox_and_the_daemon_survives()
    {
        var refused = await Assert.ThrowsAsync<RpcException>(() => _daemon.Sandboxes.CreateSandboxAsync(new CreateSandboxRequest()).ResponseAsync);

        Assert.Equal(StatusCode.Unavailable, refused.StatusCode);
        Assert.Contains("guest protocol error during the warm-up command", refused.Status.Detail, StringComparison.Ordinal);
        var sandbox = Assert.Single((await _daemon.Sandboxes.ListSandboxesAsync(new ListSandboxesRequest { All = true })).Sandboxes);
        Assert.Equal(SandboxStatus.Failed, sandbox.Status);
        Assert.Contains("guest protocol error", sandbox.StatusMessage, StringComparison.Ordinal);
        Assert.Empty(_daemon.QemuProcesses(sandbox.SandboxId));
        Assert.False(Directory.Exists(Path.Combine(_daemon.StateDir, "sandboxes", sandbox.SandboxId)));

        // The daemon goes on serving.
        Assert.NotEmpty((await _daemon.System.GetVersionAsync(new GetVersionRequest())).Version);
    }
}
