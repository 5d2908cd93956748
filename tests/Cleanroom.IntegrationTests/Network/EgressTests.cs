using System.Text.Json;

namespace Cleanroom.IntegrationTests.Network;

/// <summary>
/// Deny-by-default egress from a real guest, through the installed CLI and daemon: the policy's allowed name and
/// port work; any other name, port, address or resolver fails fast and is recorded; nothing of a sandbox's network
/// outlives it; a sandbox outlives a daemon killed with SIGKILL, policy and all.
/// </summary>
[Collection(DaemonTestGroup.Name)]
public sealed class EgressTests : IAsyncLifetime
{
    // Debian (glibc resolver, curl, getent): the tools a CI job uses. Busybox's static wget cannot resolve names.
    private const string Image = "debian-net-test:bookworm";
    private NetworkedDaemon _daemon = null!;
    private string _policyDir = null!;

    public async Task InitializeAsync()
    {
        // Checked before anything starts: xunit does not dispose a class whose InitializeAsync failed.
        Assert.True(File.Exists(RepoPaths.DebianImage), $"{RepoPaths.DebianImage} is missing: scripts/test.sh builds it with scripts/build-debian-image.sh");
        _daemon = await NetworkedDaemon.StartAsync();
        var imported = await _daemon.CliAsync("image", "import", Image, RepoPaths.DebianImage);
        Assert.True(imported.ExitCode == 0, imported.Stderr);
        _policyDir = Directory.CreateTempSubdirectory("cr-net-policy-").FullName;
        await WritePolicyAsync(Path.Combine(_policyDir, "cleanroom.yaml"), "allowed.test:80");
    }

    public async Task DisposeAsync()
    {
        try
        {
            await _daemon.DisposeAsync();
        }
        finally
        {
            Directory.Delete(_policyDir, recursive: true);
        }
    }

    [Fact]
    public async Task A_sandbox_reaches_what_its_policy_allows_and_nothing_else()
    {
        var id = await CreateAsync();

        var allowed = await ExecAsync(id, "curl", "-sS", "-m", "10", "http://allowed.test/");
        Assert.True(allowed.ExitCode == 0, allowed.Stderr);
        Assert.Equal("web80", allowed.Stdout.Trim());

        // Each of these fails, and fails fast (a refused query or a reset), not after a connect timeout.
        foreach (var command in new[]
        {
            "curl -sS -m 20 http://allowed.test:81/",                 // the allowed name on another port
            "curl -sS -m 20 http://other.test/",                      // a name the policy does not list
            "curl -sS -m 20 http://cohosted.test/",                   // a denied name on an allowed address
            // ... dialled at that address anyway, naming itself in Host: the connection guard cuts it.
            $"curl -sS -m 20 --resolve cohosted.test:80:{NetworkedDaemon.WebAddress} http://cohosted.test/",
            $"curl -sS -m 20 http://{NetworkedDaemon.OtherAddress}/", // an address dialled directly
            "curl -sS -m 20 http://169.254.169.254/",                 // the metadata address
            // Another resolver: the guest points its own resolv.conf at the upstream (and puts it back).
            $"cp /etc/resolv.conf /tmp/r; echo nameserver {NetworkedDaemon.DnsAddress} > /etc/resolv.conf; getent hosts allowed.test; rc=$?; cp /tmp/r /etc/resolv.conf; exit $rc",
        })
        {
            var started = DateTime.UtcNow;
            var result = await ExecAsync(id, "sh", "-c", command);
            Assert.True(result.ExitCode != 0, $"`{command}` succeeded: {result.Stdout}");
            Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(15), $"`{command}` took {(DateTime.UtcNow - started).TotalSeconds:0.0} s to fail");
        }

        // The upstream resolver saw the allowed name and never a denied one.
        var queries = await File.ReadAllTextAsync(_daemon.QueryLog);
        Assert.Contains("allowed.test", queries, StringComparison.Ordinal);
        Assert.DoesNotContain("other.test", queries, StringComparison.Ordinal);
        Assert.DoesNotContain("cohosted.test", queries, StringComparison.Ordinal);

        // Every refusal is an event on the sandbox.
        var events = await EventsAsync(id);
        Assert.Contains(events, e => e.Protocol == "dns" && e.Destination == "other.test" && e.Reason == "host_not_allowed");
        Assert.Contains(events, e => e.Protocol == "dns" && e.Destination == "cohosted.test");
        Assert.Contains(events, e => e.Protocol == "tcp" && e.Destination == "cohosted.test" && e.Port == 80);
        Assert.Contains(events, e => e.Protocol == "tcp" && e.Destination == NetworkedDaemon.OtherAddress && e.Port == 80);
        Assert.Contains(events, e => e.Protocol == "tcp" && e.Destination == NetworkedDaemon.WebAddress && e.Port == 81);

        var inspect = await _daemon.CliAsync("sandbox", "inspect", id);
        Assert.Contains("guest_address: 10.213.", inspect.Stdout, StringComparison.Ordinal);

        Assert.Equal(0, (await _daemon.CliAsync("sandbox", "rm", id)).ExitCode);
        Assert.Empty(_daemon.Taps());
        Assert.DoesNotContain("sb", _daemon.FirewallTable().Replace("sbin", "", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Wildcards_address_rules_UDP_server_names_spoofing_and_other_guests_in_a_real_guest()
    {
        var policy = Path.Combine(_policyDir, "rules.yaml");
        await WritePolicyAsync(policy, "allowed.test:443", "\"*.wild.test:80\"", $"{{host: {NetworkedDaemon.OtherAddress}, ports: [81, {NetworkedDaemon.UdpEchoPort}]}}");
        var id = await CreateAsync(policy);
        var other = await CreateAsync(policy);
        var otherAddress = Field(await _daemon.CliAsync("sandbox", "inspect", other), "guest_address");

        // bash, for /dev/udp. What the policy allows: a TLS name, a subdomain under a wildcard, an address rule for TCP and for UDP.
        foreach (var (command, expected) in new[]
        {
            ("curl -sS -m 10 -k https://allowed.test/", "web443"),
            ("curl -sS -m 10 http://a.wild.test/", "web80"),
            ($"curl -sS -m 10 http://{NetworkedDaemon.OtherAddress}:81/", "web81"),
            ($"exec 3<>/dev/udp/{NetworkedDaemon.OtherAddress}/{NetworkedDaemon.UdpEchoPort}; printf ping >&3; timeout 5 head -c 4 <&3", "ping"),
        })
        {
            var result = await ExecAsync(id, "bash", "-c", command);
            Assert.True(result.ExitCode == 0 && result.Stdout.Trim() == expected, $"`{command}`: exit {result.ExitCode}, {result.Stdout} {result.Stderr}");
        }

        // What it does not, each failing fast: the apex of a wildcard, another port on an allowed address (TCP and
        // UDP), a denied name on an allowed address and TLS port (cut by its server name), another sandbox.
        foreach (var command in new[]
        {
            "curl -sS -m 20 http://wild.test/",
            $"curl -sS -m 20 http://{NetworkedDaemon.OtherAddress}/",
            $"exec 3<>/dev/udp/{NetworkedDaemon.OtherAddress}/8; printf ping >&3; timeout 5 head -c 4 <&3",
            $"curl -sS -m 20 -k --resolve cohosted.test:443:{NetworkedDaemon.WebAddress} https://cohosted.test/",
            $"curl -sS -m 20 http://{otherAddress}/",
        })
        {
            var started = DateTime.UtcNow;
            var result = await ExecAsync(id, "bash", "-c", command);
            Assert.True(result.ExitCode != 0 && result.Stdout.Length == 0, $"`{command}` succeeded: {result.Stdout}");
            Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(15), $"`{command}` took {(DateTime.UtcNow - started).TotalSeconds:0.0} s to fail");
        }

        // A packet from an address that is not the sandbox's own is dropped before routing (so this one waits for its
        // timeout: nothing answers).
        var spoofed = await ExecAsync(id, "bash", "-c", $"ip addr add 10.213.255.250/32 dev eth0 && curl -sS -m 5 --interface 10.213.255.250 http://{NetworkedDaemon.OtherAddress}:81/");
        Assert.True(spoofed.ExitCode != 0 && !spoofed.Stdout.Contains("web81", StringComparison.Ordinal), $"a spoofed source got through: {spoofed.Stdout} {spoofed.Stderr}");

        var events = await EventsAsync(id);
        Assert.Contains(events, e => e.Protocol == "dns" && e.Destination == "wild.test");
        Assert.Contains(events, e => e.Protocol == "tcp" && e.Destination == NetworkedDaemon.OtherAddress && e.Port == 80);
        Assert.Contains(events, e => e.Protocol == "udp" && e.Destination == NetworkedDaemon.OtherAddress && e.Port == 8);
        Assert.Contains(events, e => e.Protocol == "tcp" && e.Destination == "cohosted.test" && e.Port == 443);
        Assert.Contains(events, e => e.Protocol == "tcp" && e.Destination == otherAddress && e.Port == 80);
        Assert.Equal(0, (await _daemon.CliAsync("sandbox", "rm", id, other)).ExitCode);
    }

    [Fact]
    public async Task IPv6_follows_the_same_policy()
    {
        // The daemon's namespace has an IPv6 default route, so --ipv6 auto turned it on, and doctor says so.
        var doctor = await _daemon.CliAsync("doctor");
        Assert.Contains("guests get IPv6 from fd63:6c65:616e::/64", doctor.Stdout, StringComparison.Ordinal);

        var id = await CreateAsync();

        var allowed = await ExecAsync(id, "curl", "-6", "-sS", "-m", "10", "http://allowed.test/");
        Assert.True(allowed.ExitCode == 0, allowed.Stderr);
        Assert.Equal("web80", allowed.Stdout.Trim());
        var resolved = await ExecAsync(id, "getent", "ahostsv6", "allowed.test");
        Assert.Contains(NetworkedDaemon.WebAddress6, resolved.Stdout, StringComparison.Ordinal);

        foreach (var command in new[]
        {
            "curl -6 -sS -m 20 http://allowed.test:81/",                                               // another port
            $"curl -6 -sS -m 20 --resolve cohosted.test:80:[{NetworkedDaemon.WebAddress6}] http://cohosted.test/", // Host check
            $"curl -6 -sS -m 20 http://[{NetworkedDaemon.OtherAddress6}]/",                           // dialled directly
            "curl -6 -sS -m 20 http://[fd00:ec2::254]/",                                               // metadata address
        })
        {
            var started = DateTime.UtcNow;
            var result = await ExecAsync(id, "sh", "-c", command);
            Assert.True(result.ExitCode != 0, $"`{command}` succeeded: {result.Stdout}");
            Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(15), $"`{command}` took {(DateTime.UtcNow - started).TotalSeconds:0.0} s to fail");
        }

        var events = await EventsAsync(id);
        Assert.Contains(events, e => e.Protocol == "tcp" && e.Destination == NetworkedDaemon.OtherAddress6 && e.Port == 80);
        Assert.Contains(events, e => e.Protocol == "tcp" && e.Destination == NetworkedDaemon.WebAddress6 && e.Port == 81);
        Assert.Contains(events, e => e.Protocol == "tcp" && e.Destination == "cohosted.test" && e.Port == 80);
        Assert.Equal(0, (await _daemon.CliAsync("sandbox", "rm", id)).ExitCode);
    }

    [Fact]
    public async Task Allow_all_reaches_any_name_but_is_recorded_and_still_blocks_the_metadata_address()
    {
        var created = await _daemon.CliAsync("sandbox", "create", "--image", Image, "--policy", Path.Combine(_policyDir, "cleanroom.yaml"), "--dangerously-allow-all");
        Assert.True(created.ExitCode == 0, created.Stderr);
        var id = created.Stdout.Trim();

        var other = await ExecAsync(id, "curl", "-sS", "-m", "10", "http://other.test:81/");
        Assert.True(other.ExitCode == 0, other.Stderr);
        Assert.Contains("web81", other.Stdout, StringComparison.Ordinal);
        Assert.NotEqual(0, (await ExecAsync(id, "curl", "-sS", "-m", "20", "http://169.254.169.254/")).ExitCode);
        Assert.Contains("dangerously_allow_all: true", (await _daemon.CliAsync("sandbox", "inspect", id)).Stdout, StringComparison.Ordinal);
        Assert.Equal(0, (await _daemon.CliAsync("sandbox", "rm", id)).ExitCode);
    }

    [Fact]
    public async Task A_sandbox_outlives_a_daemon_killed_with_SIGKILL_and_keeps_its_policy_under_the_next_one()
    {
        var id = await CreateAsync();
        var tap = Assert.Single(_daemon.Taps());
        var marker = await ExecAsync(id, "sh", "-c", "echo before-the-crash > /root/marker");
        Assert.True(marker.ExitCode == 0, marker.Stderr);
        // A command that runs through the crash, writing before it and after it.
        var running = ExecAsync(id, "sh", "-c", "echo started; while [ ! -e /root/go ]; do sleep 0.1; done; echo finished; exit 3");
        await WaitForRunningExecutionAsync(id);

        await _daemon.CrashAsync();

        // A TAP a compromised VMM made persistent outlives its VM: the next start deletes it, and only it.
        _daemon.Host.Run("ip", "tuntap", "add", "crtap9999", "mode", "tap");
        await _daemon.RestartAsync();

        Assert.Equal([tap], _daemon.Taps());
        var inspect = await _daemon.CliAsync("sandbox", "inspect", id);
        Assert.Contains("status: ready", inspect.Stdout, StringComparison.Ordinal);
        Assert.Contains("taken over after a daemon restart", inspect.Stdout, StringComparison.Ordinal);

        // The same VM (its files are there), with its policy in force again: the rules were rebuilt from it.
        var same = await ExecAsync(id, "cat", "/root/marker");
        Assert.True(same.ExitCode == 0 && same.Stdout.Trim() == "before-the-crash", $"exit {same.ExitCode}: {same.Stdout} {same.Stderr}");
        var allowed = await ExecAsync(id, "curl", "-sS", "-m", "10", "http://allowed.test/");
        Assert.True(allowed.ExitCode == 0 && allowed.Stdout.Trim() == "web80", $"exit {allowed.ExitCode}: {allowed.Stdout} {allowed.Stderr}");
        foreach (var command in new[] { "curl -sS -m 20 http://other.test/", $"curl -sS -m 20 http://{NetworkedDaemon.OtherAddress}/" })
        {
            var denied = await ExecAsync(id, "sh", "-c", command);
            Assert.True(denied.ExitCode != 0 && denied.Stdout.Length == 0, $"`{command}` succeeded after the restart: {denied.Stdout}");
        }

        // The command ran on through the crash, and its client, which kept reconnecting, printed each line once and
        // exited with the command's code.
        Assert.Equal(0, (await ExecAsync(id, "touch", "/root/go")).ExitCode);
        var through = await running.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(through.ExitCode == 3 && through.Stdout == "started\nfinished\n", $"exit {through.ExitCode}: {through.Stdout} {through.Stderr}");
        Assert.Contains("reconnecting", through.Stderr, StringComparison.Ordinal);

        Assert.Equal(0, (await _daemon.CliAsync("sandbox", "rm", id)).ExitCode);
        Assert.Empty(_daemon.Taps());
        Assert.DoesNotContain("sb", _daemon.FirewallTable().Replace("sbin", "", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    /// <summary>Asks the daemon until it reports a running execution in the sandbox (each ask is a full CLI round trip).</summary>
    private async Task WaitForRunningExecutionAsync(string sandboxId)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            var listed = await _daemon.CliAsync("execution", "ls", "--in", sandboxId, "--json");
            if (listed.Stdout.Contains("RUNNING", StringComparison.Ordinal))
            {
                return;
            }

            timeout.Token.ThrowIfCancellationRequested();
        }
    }

    [Fact]
    public async Task A_second_daemon_in_the_same_network_namespace_is_refused_and_leaves_the_first_ones_firewall_alone()
    {
        var id = await CreateAsync();
        var table = _daemon.FirewallTable();
        var state = Directory.CreateTempSubdirectory("cr-net-second-").FullName;
        try
        {
            var second = new System.Diagnostics.ProcessStartInfo("nsenter", ["--net=/run/netns/" + _daemon.Host.Name, InstalledCli.Path, "serve",
                "--listen", Path.Combine(state, "cleanroom.sock"), "--state-dir", state, "--assets", RepoPaths.Assets, "--network", "on", "--templates", "off"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using var process = System.Diagnostics.Process.Start(second)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await process.WaitForExitAsync(timeout.Token);
            var output = await stdout + await stderr;
            Assert.True(process.ExitCode != 0, "a second networked daemon started: " + output);
            Assert.Contains("another Cleanroom daemon runs the sandbox network of this network namespace", output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(state, recursive: true);
        }

        Assert.Equal(table, _daemon.FirewallTable());
        Assert.Single(_daemon.Taps());
        var allowed = await ExecAsync(id, "curl", "-sS", "-m", "10", "http://allowed.test/");
        Assert.True(allowed.ExitCode == 0 && allowed.Stdout.Trim() == "web80", $"exit {allowed.ExitCode}: {allowed.Stdout} {allowed.Stderr}");
        Assert.Equal(0, (await _daemon.CliAsync("sandbox", "rm", id)).ExitCode);
    }

    [Fact]
    public async Task A_VM_that_died_while_the_daemon_was_down_is_marked_failed_and_its_network_cleaned_up()
    {
        var id = await CreateAsync();
        Assert.Single(_daemon.Taps());

        await _daemon.CrashAsync();
        foreach (var pid in QemuOf(id))
        {
            System.Diagnostics.Process.GetProcessById(pid).Kill();
            await System.Diagnostics.Process.GetProcessById(pid).WaitForExitAsync();
        }

        await _daemon.RestartAsync();

        Assert.Empty(_daemon.Taps());
        Assert.DoesNotContain("sb", _daemon.FirewallTable().Replace("sbin", "", StringComparison.Ordinal), StringComparison.Ordinal);
        var inspect = await _daemon.CliAsync("sandbox", "inspect", id);
        Assert.Contains("status: failed", inspect.Stdout, StringComparison.Ordinal);
        Assert.Contains("could not be taken over", inspect.Stdout, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_daemon.StateDir, "sandboxes", id)), "the dead VM's work directory is still there");
    }

    private static List<int> QemuOf(string sandboxId) =>
        System.Diagnostics.Process.GetProcessesByName("qemu-system-x86_64")
            .Where(p => File.ReadAllText($"/proc/{p.Id}/cmdline").Contains(sandboxId, StringComparison.Ordinal))
            .Select(p => p.Id)
            .ToList();

    /// <summary>A policy allowing <paramref name="allow"/> (YAML list items) and denying cohosted.test.</summary>
    private static Task WritePolicyAsync(string path, params string[] allow) =>
        File.WriteAllTextAsync(path, DebianNetworkRun.Policy(DebianNetworkRun.Allow(allow) + "      deny:\n        - cohosted.test\n"));

    private static string Field((int ExitCode, string Stdout, string Stderr) inspect, string name) =>
        inspect.Stdout.Split('\n').Select(line => line.Trim()).First(line => line.StartsWith(name + ":", StringComparison.Ordinal))[(name.Length + 1)..].Trim();

    private async Task<string> CreateAsync(string? policy = null)
    {
        var created = await _daemon.CliAsync("sandbox", "create", "--image", Image, "--policy", policy ?? Path.Combine(_policyDir, "cleanroom.yaml"));
        Assert.True(created.ExitCode == 0, $"exit {created.ExitCode}: {created.Stderr} {created.Stdout}");
        return created.Stdout.Trim();
    }

    private Task<(int ExitCode, string Stdout, string Stderr)> ExecAsync(string id, params string[] command) =>
        _daemon.CliAsync(["exec", "--in", id, "--no-stdin", "--", .. command]);

    private async Task<List<Event>> EventsAsync(string id)
    {
        var result = await _daemon.CliAsync("sandbox", "events", id, "--json");
        Assert.True(result.ExitCode == 0, result.Stderr);
        return result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonDocument.Parse(line).RootElement)
            .Select(e => new Event(
                e.TryGetProperty("protocol", out var p) ? p.GetString()! : "",
                e.TryGetProperty("destination", out var d) ? d.GetString()! : "",
                e.TryGetProperty("port", out var port) ? port.GetInt32() : 0,
                e.TryGetProperty("reasonCode", out var r) ? r.GetString()! : ""))
            .ToList();
    }

    private sealed record Event(string Protocol, string Destination, int Port, string Reason);
}
