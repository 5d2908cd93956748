using Cleanroom.Api.V1;
using Cleanroom.Cli.Tests.FakeDaemon;
using Google.Protobuf;

namespace Cleanroom.Cli.Tests;

/// <summary>sandbox, execution, doctor and version commands against the fake daemon.</summary>
[Collection(FakeDaemonGroup.Name)]
public sealed class CommandTests(FakeCleanroomDaemon daemon)
{
    private async Task<string> CreateSandboxAsync(params string[] extra)
    {
        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await cli.RunAsync(["sandbox", "create", .. extra]));
        return cli.Out.TrimEnd('\n');
    }

    [Fact]
    public async Task Sandbox_create_prints_only_the_id()
    {
        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await cli.RunAsync("sandbox", "create", "--image", "alpine:3", "--vcpus", "4", "--memory", "1024"));
        Assert.Matches("^[0-9a-z]{26}\n$", cli.Out);
        Assert.Equal("", cli.Err);
        var sandbox = daemon.State.Sandboxes[cli.Out.TrimEnd('\n')];
        Assert.Equal(("alpine:3", 4, 1024), (sandbox.ImageRef, sandbox.Vcpus, sandbox.MemoryMib));
    }

    [Fact]
    public async Task Sandbox_create_json_is_the_sandbox_message()
    {
        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await cli.RunAsync("sandbox", "create", "--json"));
        var sandbox = JsonParser.Default.Parse<Sandbox>(cli.Out);
        Assert.Equal(daemon.State.Sandboxes[sandbox.SandboxId], sandbox);
    }

    [Fact]
    public async Task Sandbox_ls_prints_a_plain_table_when_not_on_a_terminal()
    {
        var id = await CreateSandboxAsync();
        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await cli.RunAsync("sandbox", "ls"));
        var lines = cli.Out.TrimEnd('\n').Split('\n');
        Assert.Matches("^ID +STATUS +BACKEND +CREATED +IMAGE$", lines[0]);
        Assert.Contains(lines, line => line.StartsWith(id + "   ready    fake", StringComparison.Ordinal));
        Assert.DoesNotContain("\u001b", cli.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sandbox_ls_all_includes_stopped_sandboxes_and_json_lists_them()
    {
        var id = await CreateSandboxAsync();
        using (var rm = new CliHarness(daemon.Endpoint))
        {
            Assert.Equal(0, await rm.RunAsync("sandbox", "rm", id));
        }

        using var running = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await running.RunAsync("sandbox", "ls", "--json"));
        Assert.DoesNotContain(JsonParser.Default.Parse<ListSandboxesResponse>(running.Out).Sandboxes, s => s.SandboxId == id);

        using var all = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await all.RunAsync("sandbox", "ls", "--all", "--json"));
        Assert.Contains(JsonParser.Default.Parse<ListSandboxesResponse>(all.Out).Sandboxes, s => s.SandboxId == id && s.Status == SandboxStatus.Stopped);
    }

    [Fact]
    public async Task Sandbox_ls_limit_shows_the_newest_and_says_on_stderr_that_there_are_more()
    {
        var older = await CreateSandboxAsync();
        await Task.Delay(5);
        var newer = await CreateSandboxAsync();

        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await cli.RunAsync("sandbox", "ls", "--limit", "1"));
        Assert.Contains(newer, cli.Out, StringComparison.Ordinal);
        Assert.DoesNotContain(older, cli.Out, StringComparison.Ordinal);
        Assert.Contains("showing the newest 1; there are more", cli.Err, StringComparison.Ordinal);

        using var bad = new CliHarness(daemon.Endpoint);
        Assert.NotEqual(0, await bad.RunAsync("sandbox", "ls", "--limit", "0"));
        Assert.Contains("--limit takes 1 to 1000", bad.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sandbox_inspect_by_id_and_last()
    {
        var first = await CreateSandboxAsync();
        await Task.Delay(5);
        var last = await CreateSandboxAsync("--image", "last:1");

        using var byId = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await byId.RunAsync("sandbox", "inspect", first));
        Assert.StartsWith($"sandbox_id: {first}\nstatus: ready\nstatus_message:\nbackend: fake\n", byId.Out, StringComparison.Ordinal);

        using var byLast = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await byLast.RunAsync("sandbox", "inspect", "--last"));
        Assert.StartsWith($"sandbox_id: {last}\n", byLast.Out, StringComparison.Ordinal);
        Assert.Contains("image_ref: last:1\n", byLast.Out, StringComparison.Ordinal);

        using var json = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await json.RunAsync("sandbox", "inspect", last, "--json"));
        Assert.Equal(last, JsonParser.Default.Parse<Sandbox>(json.Out).SandboxId);
    }

    [Fact]
    public async Task An_interrupted_command_exits_with_128_plus_the_signal()
    {
        daemon.State.SlowCreateStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
        using var cli = new CliHarness(daemon.Endpoint);
        var run = cli.RunAsync("sandbox", "create", "--image", "slow");
        await daemon.State.SlowCreateStarted.Task.WaitAsync(TimeSpan.FromSeconds(20));
        cli.Context.Interrupts.Raise(15);
        Assert.Equal(143, await run.WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.Equal("cleanroom: interrupted\n", cli.Err);
    }

    [Fact]
    public async Task Sandbox_rm_reports_each_id_and_fails_for_unknown_ones()
    {
        var id = await CreateSandboxAsync();
        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(1, await cli.RunAsync("sandbox", "rm", "nope", id));
        Assert.Equal($"removed {id}\n", cli.Out);
        Assert.Equal("cleanroom: nope: unknown sandbox nope\n", cli.Err);
        Assert.Contains(id, daemon.State.Terminated);
    }

    [Fact]
    public async Task Sandbox_inspect_of_an_unknown_id_exits_1()
    {
        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(1, await cli.RunAsync("sandbox", "inspect", "nope"));
        Assert.Equal("cleanroom: unknown sandbox nope\n", cli.Err);
    }

    [Fact]
    public async Task Execution_ls_and_inspect()
    {
        var id = await CreateSandboxAsync();
        using (var exec = new CliHarness(daemon.Endpoint))
        {
            Assert.Equal(3, await exec.RunAsync("exec", "--in", id, "--", "both", "listed"));
        }

        var executionId = daemon.State.Sandboxes[id].LastExecutionId;
        using var ls = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await ls.RunAsync("execution", "ls", "--in", id, "--all"));
        Assert.Matches($"(?m)^{executionId} +failed +3 +\\S+ +both listed$", ls.Out);

        using var inspect = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await inspect.RunAsync("execution", "inspect", executionId, "--in", id));
        Assert.Contains($"execution_id: {executionId}\nsandbox_id: {id}\nstatus: failed\ncommand: both listed\nexit_code: 3\n", inspect.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Doctor_prints_checks_and_a_summary_and_exits_0_despite_failures()
    {
        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await cli.RunAsync("doctor"));
        Assert.Equal(
            "pass  qemu_binary  /usr/bin/qemu-system-x86_64\n"
            + "warn  kvm          probe boot hung; using tcg\n"
            + "fail  agent        missing\n"
            + "summary: 1 pass, 1 warn, 1 fail\n",
            cli.Out);
    }

    [Fact]
    public async Task Doctor_json_is_the_doctor_response()
    {
        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await cli.RunAsync("doctor", "--json"));
        Assert.Equal(3, JsonParser.Default.Parse<DoctorResponse>(cli.Out).Checks.Count);
    }

    [Fact]
    public async Task Version_shows_client_and_daemon()
    {
        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await cli.RunAsync("version"));
        Assert.StartsWith("cleanroom version ", cli.Out, StringComparison.Ordinal);
        Assert.Contains("daemon version 9.9.9-fake\n", cli.Out, StringComparison.Ordinal);
        Assert.Contains("backend: fake\n", cli.Out, StringComparison.Ordinal);
        Assert.Contains("accelerator: tcg (no kvm in tests)\n", cli.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Host_flag_wins_over_the_environment()
    {
        using var cli = new CliHarness("unix:///nonexistent/cleanroom.sock");
        Assert.Equal(0, await cli.RunAsync("--host", daemon.SocketPath, "doctor"));
    }
}
