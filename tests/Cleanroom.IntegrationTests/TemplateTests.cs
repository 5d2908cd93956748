using System.Globalization;
using Cleanroom.Api.V1;
using Cleanroom.TestSupport;

namespace Cleanroom.IntegrationTests;

/// <summary>
/// Warm starts on real QEMU: the first sandbox of a kind boots cold while a template is built in the background;
/// later ones are restored from it, and each must still be its own machine (random bytes, clock, working agent).
/// </summary>
[Collection(DaemonTestGroup.Name)]
public sealed class TemplateTests
{
    [Fact]
    public async Task Sandboxes_after_the_first_start_warm_with_their_own_entropy_and_the_right_time()
    {
        await using var daemon = new TestDaemon(DaemonFixture.RequireAssets(RepoPaths.Assets), o => o with { Templates = true });
        await daemon.StartAsync();

        var first = (await daemon.Sandboxes.CreateSandboxAsync(new CreateSandboxRequest())).Sandbox;
        Assert.Equal("cold", first.StartMode);
        Assert.Contains("no template yet", first.StartNote, StringComparison.Ordinal);
        await TemplateWait.ReadyAsync(daemon.StateDir);

        var clones = new List<Sandbox>();
        for (var i = 0; i < 2; i++)
        {
            clones.Add((await daemon.Sandboxes.CreateSandboxAsync(new CreateSandboxRequest())).Sandbox);
        }

        var outputs = new List<string>();
        var machineIds = new List<string>();
        foreach (var clone in clones)
        {
            Assert.Equal(SandboxStatus.Ready, clone.Status);
            Assert.Equal("warm", clone.StartMode);
            Assert.Contains(clone.BootPhases, p => p.Name == "restore");
            Assert.Contains(clone.BootPhases, p => p.Name == "configure");

            // The warm-up command ran before the create answered, so a first command does not run beside it.
            Assert.Equal("warm-up", clone.BootPhases[^1].Name);

            var random = await ExecResult.RunAsync(daemon.Executions, clone.SandboxId, ["sh", "-c", "head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \\n'; echo; date +%s"]);
            Assert.Equal(0, random.Exit.ExitCode);
            var lines = random.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(64, lines[0].Length);
            outputs.Add(lines[0]);
            var guestTime = long.Parse(lines[1], CultureInfo.InvariantCulture);
            Assert.InRange(guestTime, DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 30, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 5);
            machineIds.Add(await AssertOwnIdentityAsync(daemon, clone.SandboxId));
        }

        Assert.NotEqual(outputs[0], outputs[1]);
        machineIds.Add(await AssertOwnIdentityAsync(daemon, first.SandboxId));
        Assert.Equal(3, machineIds.Distinct(StringComparer.Ordinal).Count());
        var cold = await ExecResult.RunAsync(daemon.Executions, first.SandboxId, ["sh", "-c", "head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \\n'"]);
        Assert.DoesNotContain(cold.StdoutText.Trim(), outputs);

        foreach (var sandbox in clones.Append(first))
        {
            await daemon.Sandboxes.TerminateSandboxAsync(new TerminateSandboxRequest { SandboxId = sandbox.SandboxId });
        }
    }

    /// <summary>The guest's hostname is its sandbox id (kernel and /etc/hostname); returns its /etc/machine-id.</summary>
    internal static async Task<string> AssertOwnIdentityAsync(TestDaemon daemon, string sandboxId)
    {
        var identity = await ExecResult.RunAsync(daemon.Executions, sandboxId, ["sh", "-c", "hostname; cat /etc/hostname /etc/machine-id"]);
        Assert.True(identity.Exit.ExitCode == 0, $"exit {identity.Exit.ExitCode}: {identity.StdoutText} {identity.StderrText}");
        var lines = identity.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal([sandboxId, sandboxId], lines[..2]);
        Assert.Matches("^[0-9a-f]{32}$", lines[2]);
        return lines[2];
    }

    [Fact]
    public async Task An_image_without_true_still_starts_warm()
    {
        using var scratch = new TemporaryDirectory("cleanroom-it-warm-up");
        await using var registry = await RegistryServer.StartAsync();
        using var pusher = RegistryPusher.For(registry);
        var image = new OciImageBuilder(scratch.Combine("blobs")).AddLayer(ImageEnvironment.Busybox).WithEnv("PATH=/bin").Build();
        var pinned = registry.Reference("it/no-true") + "@" + await pusher.PushImageAsync("it/no-true", "v1", image);
        var noCredentials = scratch.WriteFile("docker/config.json", "{}");
        await using var daemon = new TestDaemon(DaemonFixture.RequireAssets(RepoPaths.Assets), o => o with { Templates = true, RegistryConfigPath = noCredentials });
        await daemon.StartAsync();
        var first = (await daemon.Sandboxes.CreateSandboxAsync(new CreateSandboxRequest { ImageRef = pinned })).Sandbox;
        await TemplateWait.ReadyAsync(daemon.StateDir);

        // The warm-up command (`true`) cannot run in this image: that is not a broken template.
        var clone = (await daemon.Sandboxes.CreateSandboxAsync(new CreateSandboxRequest { ImageRef = pinned })).Sandbox;

        Assert.Equal("warm", clone.StartMode);
        Assert.Equal("warm-up", clone.BootPhases[^1].Name);
        Assert.Equal(127, (await ExecResult.RunAsync(daemon.Executions, clone.SandboxId, ["true"])).Exit.ExitCode);
        Assert.Equal("warm\n", (await ExecResult.RunAsync(daemon.Executions, clone.SandboxId, ["sh", "-c", "echo warm"])).StdoutText);
        foreach (var sandbox in new[] { first, clone })
        {
            await daemon.Sandboxes.TerminateSandboxAsync(new TerminateSandboxRequest { SandboxId = sandbox.SandboxId });
        }
    }

    [Fact]
    public async Task A_broken_template_falls_back_to_a_cold_boot_and_says_why()
    {
        await using var daemon = new TestDaemon(DaemonFixture.RequireAssets(RepoPaths.Assets), o => o with { Templates = true });
        await daemon.StartAsync();
        var first = (await daemon.Sandboxes.CreateSandboxAsync(new CreateSandboxRequest())).Sandbox;
        var template = await TemplateWait.ReadyAsync(daemon.StateDir);

        // The device state no longer loads: QEMU refuses it and exits.
        await File.WriteAllBytesAsync(Path.Combine(template, "device.state"), new byte[4096]);
        var second = (await daemon.Sandboxes.CreateSandboxAsync(new CreateSandboxRequest())).Sandbox;

        Assert.Equal(SandboxStatus.Ready, second.Status);
        Assert.Equal("cold", second.StartMode);
        Assert.Contains("the warm start failed", second.StartNote, StringComparison.Ordinal);
        var result = await ExecResult.RunAsync(daemon.Executions, second.SandboxId, ["echo", "still works"]);
        Assert.Equal("still works\n", result.StdoutText);
        Assert.False(Directory.Exists(template), "the broken template must be discarded");
        Assert.Single(daemon.QemuProcesses(second.SandboxId));

        foreach (var sandbox in new[] { first, second })
        {
            await daemon.Sandboxes.TerminateSandboxAsync(new TerminateSandboxRequest { SandboxId = sandbox.SandboxId });
        }
    }
}
