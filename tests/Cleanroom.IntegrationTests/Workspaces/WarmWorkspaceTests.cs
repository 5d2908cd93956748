using System.Text.Json;

namespace Cleanroom.IntegrationTests.Workspaces;

/// <summary>
/// A repository sandbox restored from a VM template: the template booted with a placeholder workspace disk, so the
/// guest must drop what it knew of that disk and mount this sandbox's commit, whatever its size.
/// </summary>
[Collection(WorkspaceTestGroup.Name)]
public sealed class WarmWorkspaceTests
{
    private const string Image = WorkspaceEnvironment.Image;

    [Fact]
    public async Task A_warm_sandbox_checks_out_its_own_commit_and_writes_to_its_own_overlay()
    {
        await using var daemon = new TestDaemon(DaemonFixture.RequireAssets(RepoPaths.Assets), o => o with { Templates = true });
        await daemon.StartAsync();
        var imported = await InstalledCli.RunAsync(daemon.SocketPath, null, "image", "import", Image, RepoPaths.DebianImage);
        Assert.True(imported.ExitCode == 0, imported.Stderr);
        using var repo = new TestRepository();
        repo.Write("small.txt", "first\n");
        repo.CommitAll("first");
        var cold = await CreateAsync(daemon, repo.Root);
        Assert.Equal("cold", cold.Mode);
        await TemplateWait.ReadyAsync(daemon.StateDir);

        // A much bigger tree: the workspace disk differs in size from the one the template was booted with.
        var big = string.Concat(Enumerable.Repeat("0123456789abcdef", 1 << 16));
        repo.Write("small.txt", "second\n").Write("big/data.txt", big);
        var second = repo.CommitAll("second");
        var warm = await CreateAsync(daemon, repo.Root);
        try
        {
            Assert.Equal("warm", warm.Mode);
            var result = await InstalledCli.RunAsync(daemon.SocketPath, null, "exec", "--in", warm.Id, "--", "bash", "-c",
                "pwd; cat small.txt; git log -1 --format=%H; sha256sum big/data.txt | cut -c1-64; echo mine > small.txt; cat small.txt; git status --porcelain");
            Assert.True(result.ExitCode == 0, result.Stderr);
            var expectedHash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(big)));
            Assert.Equal($"/workspace\nsecond\n{second}\n{expectedHash}\nmine\n M small.txt\n", result.Stdout);

            var coldView = await InstalledCli.RunAsync(daemon.SocketPath, null, "exec", "--in", cold.Id, "--", "cat", "small.txt");
            Assert.Equal("first\n", coldView.Stdout);
        }
        finally
        {
            await InstalledCli.RunAsync(daemon.SocketPath, null, "sandbox", "rm", cold.Id, warm.Id);
        }
    }

    private static async Task<(string Id, string Mode)> CreateAsync(TestDaemon daemon, string directory)
    {
        var created = await InstalledCli.RunAsync(daemon.SocketPath, directory, "sandbox", "create", "--image", Image, "--json");
        Assert.True(created.ExitCode == 0, created.Stderr);
        using var json = JsonDocument.Parse(created.Stdout);
        var sandbox = json.RootElement;
        return (sandbox.GetProperty("sandboxId").GetString()!, sandbox.TryGetProperty("startMode", out var mode) ? mode.GetString()! : "");
    }
}
