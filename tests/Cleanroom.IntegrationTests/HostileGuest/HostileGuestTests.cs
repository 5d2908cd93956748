using System.Diagnostics;
using Cleanroom.Api.V1;

namespace Cleanroom.IntegrationTests.HostileGuest;

/// <summary>
/// A real VM whose guest completes the handshake and then floods the channel with random bytes: the daemon must
/// mark that sandbox FAILED with a protocol error, kill its VM, and keep serving everything else.
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
        var id = (await _daemon.Sandboxes.CreateSandboxAsync(new CreateSandboxRequest())).Sandbox.SandboxId;

        var sandbox = await WaitForStatusAsync(id, SandboxStatus.Failed);

        Assert.Contains("protocol", sandbox.StatusMessage, StringComparison.OrdinalIgnoreCase);
        Assert.Empty(_daemon.QemuProcesses(id));
        Assert.False(Directory.Exists(Path.Combine(_daemon.StateDir, "sandboxes", id)));
        var listed = (await _daemon.Sandboxes.ListSandboxesAsync(new ListSandboxesRequest { All = true })).Sandboxes;
        Assert.Contains(listed, s => s.SandboxId == id && s.Status == SandboxStatus.Failed);
    }

    private async Task<Sandbox> WaitForStatusAsync(string id, SandboxStatus status)
    {
        for (var i = 0; i < 300; i++)
        {
            var sandbox = (await _daemon.Sandboxes.GetSandboxAsync(new GetSandboxRequest { SandboxId = id })).Sandbox;
            if (sandbox.Status == status)
            {
                return sandbox;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"sandbox {id} never became {status}");
    }
}
