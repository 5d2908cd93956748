namespace Cleanroom.IntegrationTests.Network;

/// <summary>
/// Networked sandboxes from the warm pool: a pooled VM waits on its own link with a deny-all policy, and the sandbox
/// that takes it must get exactly its own policy, whatever that is (the pool is shared by every policy).
/// </summary>
[Collection(DaemonTestGroup.Name)]
public sealed class WarmPoolNetworkTests : IAsyncLifetime
{
    private const string Image = "debian-net-test:bookworm";
    private NetworkedDaemon _daemon = null!;
    private string _dir = null!;

    public async Task InitializeAsync()
    {
        _daemon = await NetworkedDaemon.StartAsync("--templates", "on", "--warm-pool", "1");
        var imported = await _daemon.CliAsync("image", "import", Image, RepoPaths.DebianImage);
        Assert.True(imported.ExitCode == 0, imported.Stderr);
        _dir = Directory.CreateTempSubdirectory("cr-pool-net-").FullName;
        await WritePolicyAsync("allow", "      allow:\n        - allowed.test:80\n");
        await WritePolicyAsync("deny", "      default: deny\n");
    }

    public async Task DisposeAsync()
    {
        try
        {
            await _daemon.DisposeAsync();
        }
        finally
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    [Fact]
    public async Task A_pooled_VM_gets_the_policy_of_the_sandbox_that_takes_it()
    {
        var cold = await CreateAsync("allow");
        await TemplateWait.ReadyAsync(_daemon.StateDir);
        var ids = new List<string> { cold };
        foreach (var (policy, expected) in new[] { ("allow", "web80 other-refused"), ("deny", "allowed-refused other-refused"), ("allow", "web80 other-refused") })
        {
            await PoolWait.VmAsync(_daemon.StateDir, ids);
            var id = await CreateAsync(policy);
            ids.Add(id);
            var inspect = await _daemon.CliAsync("sandbox", "inspect", id);
            Assert.Contains("taken from the warm pool", inspect.Stdout, StringComparison.Ordinal);

            var result = await _daemon.CliAsync(
                "exec", "--in", id, "--no-stdin", "--", "sh", "-c",
                "{ curl -sS -m 10 http://allowed.test/ || echo allowed-refused; } | tr -d '\\n'; echo -n ' '; curl -sS -m 10 http://other.test/ >/dev/null 2>&1 && echo other-reached || echo other-refused");
            Assert.True(result.ExitCode == 0, result.Stderr);
            Assert.Equal(expected, result.Stdout.Trim());
        }

        await _daemon.CliAsync(["sandbox", "rm", .. ids]);
    }

    private string PolicyPath(string name) => Path.Combine(_dir, name, "cleanroom.yaml");

    private async Task WritePolicyAsync(string name, string network)
    {
        Directory.CreateDirectory(Path.Combine(_dir, name));
        await File.WriteAllTextAsync(PolicyPath(name), $"""
            version: 1
            repository:
              enabled: false
            sandbox:
              image:
                ref: ghcr.io/buildkite/cleanroom-base/alpine@sha256:0000000000000000000000000000000000000000000000000000000000000001
              network:

            """ + network);
    }

    private async Task<string> CreateAsync(string policy)
    {
        var created = await _daemon.CliAsync("sandbox", "create", "--image", Image, "--policy", PolicyPath(policy));
        Assert.True(created.ExitCode == 0, $"exit {created.ExitCode}: {created.Stderr} {created.Stdout}");
        return created.Stdout.Trim();
    }
}
