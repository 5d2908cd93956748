using System.Globalization;
using Cleanroom.Api.V1;

namespace Cleanroom.IntegrationTests;

/// <summary>
/// The warm pool on real QEMU: VMs restored from a template ahead of any request. A create takes one, and each must
/// still be its own machine; a pooled VM that died is never handed out; the pool gives its room back to a create that
/// needs it. Disposing the daemon checks that no pooled VM or its directory is left behind.
/// </summary>
[Collection(DaemonTestGroup.Name)]
public sealed class WarmPoolTests
{
    [Fact]
    public async Task Creates_take_pooled_VMs_and_each_is_its_own_machine()
    {
        await using var daemon = new TestDaemon(DaemonFixture.RequireAssets(RepoPaths.Assets), o => o with { Templates = true, WarmPool = 1 });
        await daemon.StartAsync();
        var first = (await daemon.Sandboxes.CreateSandboxAsync(new CreateSandboxRequest())).Sandbox;
        Assert.Equal("cold", first.StartMode);
        await TemplateWait.ReadyAsync(daemon.StateDir);

        var sandboxes = new List<Sandbox> { first };
        var pooled = new List<Sandbox>();
        for (var i = 0; i < 2; i++)
        {
            // The pool refills after each take; a create waits for the VM it is making.
            var coming = await PoolWait.VmAsync(daemon.StateDir, sandboxes.Select(s => s.SandboxId));
            var sandbox = (await daemon.Sandboxes.CreateSandboxAsync(new CreateSandboxRequest())).Sandbox;
            sandboxes.Add(sandbox);
            pooled.Add(sandbox);
            Assert.Equal(SandboxStatus.Ready, sandbox.Status);
            Assert.Equal("warm", sandbox.StartMode);
            Assert.Contains("taken from the warm pool", sandbox.StartNote, StringComparison.Ordinal);
            Assert.Equal(coming, sandbox.SandboxId);
        }

        var randoms = new List<string>();
        var machineIds = new List<string>();
        foreach (var sandbox in pooled)
        {
            var random = await ExecResult.RunAsync(daemon.Executions, sandbox.SandboxId, ["sh", "-c", "head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \\n'; echo; date +%s"]);
            Assert.Equal(0, random.Exit.ExitCode);
            var lines = random.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            randoms.Add(lines[0]);
            var guestTime = long.Parse(lines[1], CultureInfo.InvariantCulture);
            Assert.InRange(guestTime, DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 30, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 5);
            machineIds.Add(await TemplateTests.AssertOwnIdentityAsync(daemon, sandbox.SandboxId));
        }

        Assert.NotEqual(randoms[0], randoms[1]);
        Assert.NotEqual(machineIds[0], machineIds[1]);
        foreach (var sandbox in sandboxes)
        {
            await daemon.Sandboxes.TerminateSandboxAsync(new TerminateSandboxRequest { SandboxId = sandbox.SandboxId });
        }
    }

    [Fact]
    public async Task A_pooled_VM_that_died_is_not_handed_out()
    {
        await using var daemon = new TestDaemon(DaemonFixture.RequireAssets(RepoPaths.Assets), o => o with { Templates = true, WarmPool = 1 });
        await daemon.StartAsync();
        var first = (await daemon.Sandboxes.CreateSandboxAsync(new CreateSandboxRequest())).Sandbox;
        await TemplateWait.ReadyAsync(daemon.StateDir);
        var doomed = await PoolWait.VmAsync(daemon.StateDir, [first.SandboxId]);
        var qemu = await QemuOfAsync(daemon, doomed);
        System.Diagnostics.Process.GetProcessById(qemu).Kill();

        // Killed while being made or while idle: either way the create gets a working VM of its own.
        var second = (await daemon.Sandboxes.CreateSandboxAsync(new CreateSandboxRequest())).Sandbox;
        Assert.Equal(SandboxStatus.Ready, second.Status);
        Assert.NotEqual(doomed, second.SandboxId);
        var result = await ExecResult.RunAsync(daemon.Executions, second.SandboxId, ["echo", "alive"]);
        Assert.Equal("alive\n", result.StdoutText);

        foreach (var sandbox in new[] { first, second })
        {
            await daemon.Sandboxes.TerminateSandboxAsync(new TerminateSandboxRequest { SandboxId = sandbox.SandboxId });
        }
    }

    [Fact]
    public async Task A_create_that_needs_the_pools_room_gets_it()
    {
        // Room for exactly two 512 MiB VMs: the first sandbox and one pooled VM fill it.
        await using var daemon = new TestDaemon(
            DaemonFixture.RequireAssets(RepoPaths.Assets),
            o => o with { Templates = true, WarmPool = 1, Limits = o.Limits with { MaxTotalMemoryBytes = 1L << 30 } });
        await daemon.StartAsync();
        var first = (await daemon.Sandboxes.CreateSandboxAsync(new CreateSandboxRequest())).Sandbox;
        await TemplateWait.ReadyAsync(daemon.StateDir);
        var pooledVm = await PoolWait.VmAsync(daemon.StateDir, [first.SandboxId]);

        // Another kind (256 MiB): without the pool's room it would not fit.
        var other = (await daemon.Sandboxes.CreateSandboxAsync(new CreateSandboxRequest { Options = new SandboxOptions { MemoryMib = 256 } })).Sandbox;
        Assert.Equal(SandboxStatus.Ready, other.Status);
        Assert.NotEqual(pooledVm, other.SandboxId);
        var result = await ExecResult.RunAsync(daemon.Executions, other.SandboxId, ["echo", "fits"]);
        Assert.Equal("fits\n", result.StdoutText);

        foreach (var sandbox in new[] { first, other })
        {
            await daemon.Sandboxes.TerminateSandboxAsync(new TerminateSandboxRequest { SandboxId = sandbox.SandboxId });
        }
    }

    private static async Task<int> QemuOfAsync(TestDaemon daemon, string vmId)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (daemon.QemuProcesses(vmId) is [var pid, ..])
            {
                return pid;
            }

            await Task.Delay(20);
        }

        throw new TimeoutException($"no QEMU for pooled VM {vmId}");
    }
}
