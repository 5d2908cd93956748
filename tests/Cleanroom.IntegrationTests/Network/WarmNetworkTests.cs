namespace Cleanroom.IntegrationTests.Network;

/// <summary>
/// Networked sandboxes restored from a VM template: the template's card had no TAP and no address, so each clone must
/// come up with its own MAC and address and still get exactly what its policy allows.
/// </summary>
[Collection(DaemonTestGroup.Name)]
public sealed class WarmNetworkTests : IAsyncLifetime
{
    private DebianNetworkRun _run = null!;
    private NetworkedDaemon _daemon = null!;
    private string _policy = null!;

    public async Task InitializeAsync()
    {
        _run = await DebianNetworkRun.StartAsync("cr-warm-net-", "--templates", "on");
        _daemon = _run.Daemon;
        _policy = await _run.WritePolicyAsync("allow", DebianNetworkRun.Allow("allowed.test:80"));
    }

    public async Task DisposeAsync() => await _run.DisposeAsync();

    [Fact]
    public async Task Warm_sandboxes_have_their_own_address_and_mac_and_their_policy()
    {
        var cold = await CreateAsync();
        await TemplateWait.ReadyAsync(_daemon.StateDir);
        var first = await CreateAsync();
        var second = await CreateAsync();

        var seen = new List<string>();
        foreach (var id in new[] { first, second })
        {
            var inspect = await _daemon.CliAsync("sandbox", "inspect", id);
            Assert.Contains("start_mode: warm", inspect.Stdout, StringComparison.Ordinal);
            var address = inspect.Stdout.Split('\n').Select(l => l.Trim()).First(l => l.StartsWith("guest_address:", StringComparison.Ordinal))["guest_address:".Length..].Trim();

            var result = await ExecAsync(id, "sh", "-c", "cat /sys/class/net/eth0/address; ip -4 -o addr show dev eth0 | awk '{print $4}'; curl -sS -m 10 http://allowed.test/; curl -sS -m 10 http://other.test/ >/dev/null 2>&1 && echo other-reached || echo other-refused");
            Assert.True(result.ExitCode == 0, result.Stderr);
            var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.NotEqual("02:00:00:00:00:fe", lines[0]);
            Assert.StartsWith(address + "/", lines[1], StringComparison.Ordinal);
            Assert.Equal("web80", lines[2]);
            Assert.Equal("other-refused", lines[3]);
            seen.Add(lines[0]);
            seen.Add(address);
        }

        Assert.Equal(seen.Count, seen.Distinct().Count());
        await _daemon.CliAsync("sandbox", "rm", cold, first, second);
    }

    private async Task<string> CreateAsync()
    {
        var created = await _daemon.CliAsync("sandbox", "create", "--image", DebianNetworkRun.Image, "--policy", _policy);
        Assert.True(created.ExitCode == 0, $"exit {created.ExitCode}: {created.Stderr} {created.Stdout}");
        return created.Stdout.Trim();
    }

    private Task<(int ExitCode, string Stdout, string Stderr)> ExecAsync(string id, params string[] command) =>
        _daemon.CliAsync(["exec", "--in", id, "--no-stdin", "--", .. command]);
}
