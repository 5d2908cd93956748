namespace Cleanroom.IntegrationTests.Network;

/// <summary>
/// Networked sandboxes from the warm pool: a pooled VM waits on its own link with a deny-all policy, and the sandbox
/// that takes it must get exactly its own policy, whatever that is (the pool is shared by every policy).
/// </summary>
[Collection(DaemonTestGroup.Name)]
public sealed class WarmPoolNetworkTests : IAsyncLifetime
{
    private DebianNetworkRun _run = null!;
    private readonly Dictionary<string, string> _policies = [];

    public async Task InitializeAsync()
    {
        _run = await DebianNetworkRun.StartAsync("cr-pool-net-", "--templates", "on", "--warm-pool", "1");
        _policies["allow"] = await _run.WritePolicyAsync("allow", DebianNetworkRun.Allow("allowed.test:80"));
        _policies["deny"] = await _run.WritePolicyAsync("deny", "      default: deny\n");
    }

    public async Task DisposeAsync() => await _run.DisposeAsync();

    [Fact]
    public async Task A_pooled_VM_gets_the_policy_of_the_sandbox_that_takes_it()
    {
        var daemon = _run.Daemon;
        var cold = await CreateAsync("allow");
        await TemplateWait.ReadyAsync(daemon.StateDir);
        var ids = new List<string> { cold };
        foreach (var (policy, expected) in new[] { ("allow", "web80 other-refused"), ("deny", "allowed-refused other-refused"), ("allow", "web80 other-refused") })
        {
            await PoolWait.VmAsync(daemon.StateDir, ids);
            var id = await CreateAsync(policy);
            ids.Add(id);
            var inspect = await daemon.CliAsync("sandbox", "inspect", id);
            Assert.Contains("taken from the warm pool", inspect.Stdout, StringComparison.Ordinal);

            var result = await daemon.CliAsync(
                "exec", "--in", id, "--no-stdin", "--", "sh", "-c",
                "{ curl -sS -m 10 http://allowed.test/ || echo allowed-refused; } | tr -d '\\n'; echo -n ' '; curl -sS -m 10 http://other.test/ >/dev/null 2>&1 && echo other-reached || echo other-refused");
            Assert.True(result.ExitCode == 0, result.Stderr);
            Assert.Equal(expected, result.Stdout.Trim());
        }

        await daemon.CliAsync(["sandbox", "rm", .. ids]);
    }

    private async Task<string> CreateAsync(string policy)
    {
        var created = await _run.Daemon.CliAsync("sandbox", "create", "--image", DebianNetworkRun.Image, "--policy", _policies[policy]);
        Assert.True(created.ExitCode == 0, $"exit {created.ExitCode}: {created.Stderr} {created.Stdout}");
        return created.Stdout.Trim();
    }
}
