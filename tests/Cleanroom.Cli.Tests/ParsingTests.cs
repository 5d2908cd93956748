using System.CommandLine;
using Cleanroom.Cli.Commands;
using Cleanroom.Client.Exec;

namespace Cleanroom.Cli.Tests;

public sealed class ParsingTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    private ParseResult Parse(params string[] args) => CliApp.Parse(args, _cli.Context);

    private void AssertParses(params string[] args)
    {
        var parse = Parse(args);
        Assert.True(parse.Errors.Count == 0, string.Join("; ", parse.Errors.Select(e => e.Message)));
    }

    private ExecSpec ExecSpec(params string[] args)
    {
        var parse = Parse(args);
        Assert.Empty(parse.Errors);
        return Assert.IsType<ExecCommand>(parse.CommandResult.Command).BuildSpec(parse, _cli.Context);
    }

    [Theory]
    [InlineData("exec")]
    [InlineData("exec", "--keep")]
    [InlineData("exec", "-t", "-n", "--", "sh")]
    [InlineData("exec", "--in", "s1", "--image", "alpine", "--", "true")]
    [InlineData("exec", "-e", "=x", "--", "true")]
    [InlineData("exec", "-e", "", "--", "true")]
    [InlineData("sandbox")]
    [InlineData("sandbox", "inspect")]
    [InlineData("sandbox", "inspect", "s1", "--last")]
    [InlineData("sandbox", "rm")]
    [InlineData("sandbox", "create", "--vcpus", "-1")]
    [InlineData("sandbox", "create", "--memory", "lots")]
    [InlineData("sandbox", "create", "extra")]
    [InlineData("sandbox", "ls", "--bogus")]
    [InlineData("execution", "ls", "--limit", "0")]
    [InlineData("execution", "inspect")]
    [InlineData("execution", "inspect", "e1", "--last")]
    [InlineData("status", "--last", "--execution-id", "e1")]
    [InlineData("status", "e1")]
    [InlineData("--host", "relative.sock", "version")]
    [InlineData("version", "--host", "tcp://x:1")]
    [InlineData("frobnicate")]
    [InlineData]
    public async Task Usage_errors_exit_2_with_a_hint(params string[] args)
    {
        Assert.Equal(2, await _cli.RunAsync(args));
        Assert.StartsWith("cleanroom: ", _cli.Err, StringComparison.Ordinal);
        Assert.Contains("--help' for usage", _cli.Err, StringComparison.Ordinal);
        Assert.Equal("", _cli.Out);
    }

    [Theory]
    [InlineData("sandbox", "create", "--image", "alpine:3", "--vcpus", "2", "--memory", "256", "--json")]
    [InlineData("sandbox", "ls", "--all", "--json")]
    [InlineData("sandbox", "list", "-a")]
    [InlineData("sandbox", "inspect", "s1", "--json")]
    [InlineData("sandbox", "show", "--last")]
    [InlineData("sandbox", "rm", "s1", "s2", "--json")]
    [InlineData("sandbox", "terminate", "s1")]
    [InlineData("execution", "ls", "--in", "s1", "--all", "--json")]
    [InlineData("execution", "inspect", "e1", "--sandbox-id", "s1", "--json")]
    [InlineData("execution", "ls")]
    [InlineData("execution", "list", "-n", "5")]
    [InlineData("execution", "inspect", "e1")]
    [InlineData("execution", "show", "--last", "--in", "s1")]
    [InlineData("status")]
    [InlineData("status", "--execution-id", "e1", "--json")]
    [InlineData("status", "--last", "--in", "s1")]
    [InlineData("doctor", "--json")]
    [InlineData("version")]
    [InlineData("--host", "unix:///tmp/d.sock", "sandbox", "ls")]
    [InlineData("sandbox", "ls", "--host", "http://127.0.0.1:9")]
    public void Valid_command_lines_parse(params string[] args) => AssertParses(args);

    [Fact]
    public async Task Help_exits_0()
    {
        Assert.Equal(0, await _cli.RunAsync("exec", "--help"));
        Assert.Contains("--print-sandbox-id", _cli.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void Exec_defaults_create_a_sandbox_and_forward_piped_stdin()
    {
        var spec = ExecSpec("exec", "--", "uname", "-a");
        Assert.Equal(["uname", "-a"], spec.Command);
        Assert.Null(spec.SandboxId);
        Assert.False(spec.Keep);
        Assert.False(spec.Tty);
        Assert.True(spec.AttachStdin);
        Assert.Empty(spec.Environment);
    }

    [Fact]
    public void Exec_options_before_the_double_dash_and_everything_after_it_is_the_command()
    {
        var spec = ExecSpec("exec", "--in", "s1", "--keep", "--cwd", "/work", "--user", "nobody", "--", "sh", "-c", "echo --keep -e X", "--in");
        Assert.Equal("s1", spec.SandboxId);
        Assert.True(spec.Keep);
        Assert.Equal("/work", spec.WorkingDirectory);
        Assert.Equal("nobody", spec.User);
        Assert.Equal(["sh", "-c", "echo --keep -e X", "--in"], spec.Command);
    }

    [Fact]
    public void Exec_command_without_dashes_needs_no_double_dash_and_flags_take_no_value()
    {
        var spec = ExecSpec("exec", "--keep", "true");
        Assert.Equal(["true"], spec.Command);
        Assert.True(spec.Keep);
    }

    [Fact]
    public void Exec_at_signs_are_not_response_files() =>
        Assert.Equal(["echo", "@/etc/passwd"], ExecSpec("exec", "--", "echo", "@/etc/passwd").Command);

    [Fact]
    public void Exec_env_takes_key_value_and_bare_key_from_the_client_environment()
    {
        _cli.Environment["FROM_CLIENT"] = "client value";
        var spec = ExecSpec("exec", "-e", "A=1", "--env", "FROM_CLIENT", "-e", "EMPTY=", "-e", "NOT_SET", "-e", "B=x=y", "--", "env");
        Assert.Equal(["A=1", "FROM_CLIENT=client value", "EMPTY=", "B=x=y"], spec.Environment);
    }

    [Fact]
    public void Exec_sandbox_id_is_an_alias_of_in() =>
        Assert.Equal("s9", ExecSpec("exec", "--sandbox-id", "s9", "--", "true").SandboxId);

    [Fact]
    public void Exec_no_stdin_turns_forwarding_off() =>
        Assert.False(ExecSpec("exec", "-n", "--", "cat").AttachStdin);

    [Fact]
    public void Exec_tty_passes_the_terminal_size()
    {
        using var cli = new CliHarness { StdoutIsTerminal = true, StdinIsTerminal = true };
        var parse = CliApp.Parse(["exec", "-t", "--", "sh"], cli.Context);
        var spec = Assert.IsType<ExecCommand>(parse.CommandResult.Command).BuildSpec(parse, cli.Context);
        Assert.True(spec.Tty);
        Assert.Equal((120, 40), (spec.Columns, spec.Rows));
        Assert.False(spec.AttachStdin);
    }

    [Fact]
    public void Exec_does_not_forward_a_terminal_on_stdin()
    {
        using var cli = new CliHarness { StdinIsTerminal = true };
        var parse = CliApp.Parse(["exec", "--", "cat"], cli.Context);
        Assert.False(Assert.IsType<ExecCommand>(parse.CommandResult.Command).BuildSpec(parse, cli.Context).AttachStdin);
    }

    [Theory]
    [InlineData("serve", "--accel", "hvf")]
    [InlineData("serve", "--listen", "https://127.0.0.1:1/path")]
    [InlineData("serve", "--listen", "/a.sock", "--listen", "/b.sock")]
    [InlineData("serve", "--listen", "relative.sock")]
    public async Task Serve_usage_errors_exit_2(params string[] args) =>
        Assert.Equal(2, await _cli.RunAsync(args));

    [Fact]
    public void Serve_accepts_its_options() =>
        AssertParses("serve", "--listen", "unix:///tmp/d.sock", "--state-dir", "/tmp/state", "--assets", "/tmp/assets", "--accel", "tcg",
            "--images", "/tmp/images", "--insecure-registry", "reg.lan:5000", "--insecure-registry", "mirror.lan",
            "--listen", "https://0.0.0.0:8443", "--listen", "http://0.0.0.0:7777", "--insecure", "--tls-cert", "/tmp/s.pem", "--tls-key", "/tmp/s.key", "--tls-client-ca", "/tmp/ca.pem");
}
