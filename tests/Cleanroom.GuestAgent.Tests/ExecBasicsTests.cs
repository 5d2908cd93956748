using Cleanroom.Guest.Wire.Messages;
using Cleanroom.GuestAgent.Exec;

namespace Cleanroom.GuestAgent.Tests;

public class ExecBasicsTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    public async Task Exit_code_is_reported(int code)
    {
        await using var agent = await AgentHarness.StartAsync();
        var result = await agent.RunAsync(AgentHarness.Shell($"exit {code}"));
        Assert.Equal(new ExitMessage(code, 0, ""), result.Exit);
    }

    [Fact]
    public async Task Death_by_signal_reports_the_signal()
    {
        await using var agent = await AgentHarness.StartAsync();
        var result = await agent.RunAsync(AgentHarness.Shell("kill -9 $$"));
        Assert.Equal(9, result.Exit.Signal);
        Assert.Equal(137, result.Exit.ShellExitCode);
    }

    [Fact]
    public async Task Stdout_and_stderr_stay_separate()
    {
        await using var agent = await AgentHarness.StartAsync();
        var result = await agent.RunAsync(AgentHarness.Shell("echo out; echo err >&2; echo out2"));
        Assert.Equal("out\nout2\n", result.StdoutText);
        Assert.Equal("err\n", result.StderrText);
        Assert.Equal(0, result.Exit.ExitCode);
    }

    [Fact]
    public async Task Started_reports_the_pid()
    {
        await using var agent = await AgentHarness.StartAsync();
        var process = await agent.Client.StartAsync(AgentHarness.Shell("echo $$"), CancellationToken.None);
        var pid = await process.Started.WaitAsync(TimeSpan.FromSeconds(10));
        await process.CloseStdinAsync(CancellationToken.None);
        var output = new List<byte>();
        while (await process.ReadOutputAsync(CancellationToken.None) is { } chunk)
        {
            output.AddRange(chunk.Data.ToArray());
        }

        Assert.Equal($"{pid}\n", System.Text.Encoding.UTF8.GetString([.. output]));
    }

    [Fact]
    public async Task Environment_and_working_directory_are_as_requested()
    {
        await using var agent = await AgentHarness.StartAsync();
        var request = AgentHarness.Shell("echo \"$FOO|$BAR\"; pwd", "FOO=bar baz", "BAR=") with { Cwd = "/usr/bin" };
        var result = await agent.RunAsync(request);
        Assert.Equal("bar baz|\n/usr/bin\n", result.StdoutText);
    }

    [Fact]
    public async Task Environment_is_exactly_the_request_plus_defaults()
    {
        await using var agent = await AgentHarness.StartAsync();
        var result = await agent.RunAsync(AgentHarness.Shell("env | grep -v '^PWD=' | grep -v '^SHLVL=' | grep -v '^_=' | sort", "ZED=1"));
        Assert.Equal($"HOME=/root\nPATH={EnvironmentDefaults.DefaultPath}\nZED=1\n", result.StdoutText);
    }

    [Fact]
    public async Task Default_working_directory_is_root()
    {
        await using var agent = await AgentHarness.StartAsync();
        var result = await agent.RunAsync(AgentHarness.Shell("pwd"));
        Assert.Equal("/\n", result.StdoutText);
    }

    [Fact]
    public async Task Program_is_found_on_the_requested_path()
    {
        await using var agent = await AgentHarness.StartAsync();
        var result = await agent.RunAsync(new ExecRequest { Argv = ["echo", "hi"], Env = ["PATH=/nonexistent:/bin"] });
        Assert.Equal("hi\n", result.StdoutText);
    }

    [Fact]
    public async Task Missing_command_is_127_with_a_clear_error()
    {
        await using var agent = await AgentHarness.StartAsync();
        var result = await agent.RunAsync(new ExecRequest { Argv = ["no-such-command-xyz", "arg"] });
        Assert.Equal(127, result.Exit.ExitCode);
        Assert.Equal("command not found: no-such-command-xyz", result.Exit.Error);
    }

    [Fact]
    public async Task Missing_path_is_127()
    {
        await using var agent = await AgentHarness.StartAsync();
        var result = await agent.RunAsync(new ExecRequest { Argv = ["/no/such/program"] });
        Assert.Equal(127, result.Exit.ExitCode);
        Assert.Contains("no such file", result.Exit.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Not_executable_is_126()
    {
        await using var agent = await AgentHarness.StartAsync();
        var file = Path.GetTempFileName();
        try
        {
            var result = await agent.RunAsync(new ExecRequest { Argv = [file] });
            Assert.Equal(126, result.Exit.ExitCode);
            Assert.Contains("permission denied", result.Exit.Error, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Missing_working_directory_is_126_with_a_clear_error()
    {
        await using var agent = await AgentHarness.StartAsync();
        var result = await agent.RunAsync(AgentHarness.Shell("true") with { Cwd = "/no/such/dir" });
        Assert.Equal(new ExitMessage(126, 0, "working directory does not exist: /no/such/dir"), result.Exit);
    }

    [Fact]
    public async Task Signals_are_at_their_defaults_in_the_child()
    {
        // The .NET runtime ignores SIGPIPE; a child that inherited that would print "Broken pipe" errors here.
        await using var agent = await AgentHarness.StartAsync();
        var result = await agent.RunAsync(AgentHarness.Shell("yes | head -n 1; grep -E '^Sig(Ign|Blk)' /proc/self/status"));
        Assert.Equal("y\nSigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n", result.StdoutText);
        Assert.Equal("", result.StderrText);
    }
}
