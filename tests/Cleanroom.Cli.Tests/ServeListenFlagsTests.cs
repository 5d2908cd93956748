namespace Cleanroom.Cli.Tests;

/// <summary>
/// <c>cleanroom serve</c>'s listener and TLS flags as handed to the daemon executable (a script here that records its
/// arguments), and the client's TLS flags refused before any connection when their files cannot be used.
/// </summary>
public sealed class ServeListenFlagsTests
{
    private static async Task<(int Exit, string[] Args, CliHarness Cli)> ServeAsync(TemporaryDirectory directory, Dictionary<string, string>? environment, params string[] flags)
    {
        var recorded = Path.Join(directory.Path, "args");
        var daemon = directory.Write("daemon.sh", $"#!/bin/sh\nprintf '%s\\n' \"$@\" > '{recorded}'\n");
        File.SetUnixFileMode(daemon, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var cli = new CliHarness { WorkingDirectory = directory.Path };
        cli.Environment["CLEANROOM_DAEMON"] = daemon;
        foreach (var (name, value) in environment ?? [])
        {
            cli.Environment[name] = value;
        }

        var exit = await cli.RunAsync(["serve", "--state-dir", Path.Join(directory.Path, "state"), .. flags]);
        return (exit, File.Exists(recorded) ? File.ReadAllLines(recorded) : [], cli);
    }

    private static List<string> Values(string[] args, string flag) =>
        args.Select((a, i) => (a, i)).Where(p => p.a == flag && p.i + 1 < args.Length).Select(p => args[p.i + 1]).ToList();

    [Fact]
    public async Task Repeated_listen_flags_reach_the_daemon_with_the_socket_first_and_the_tls_files_absolute()
    {
        using var directory = new TemporaryDirectory();
        var socket = Path.Join(directory.Path, "d.sock");
        // Relative to the process's directory, as serve's other paths are.
        var relative = Path.GetRelativePath(Directory.GetCurrentDirectory(), directory.Path);
        var (exit, args, cli) = await ServeAsync(directory, null,
            "--listen", "https://127.0.0.1:8443", "--listen", socket, "--listen", "http://0.0.0.0:7777", "--insecure",
            "--tls-cert", Path.Join(relative, "server.pem"), "--tls-key", Path.Join(relative, "server.key"), "--tls-client-ca", Path.Join(relative, "clients.pem"));
        using (cli)
        {
            Assert.Equal(0, exit);
        }

        Assert.Equal([socket, "https://127.0.0.1:8443", "http://0.0.0.0:7777"], Values(args, "--listen"));
        Assert.Contains("--insecure", args);
        Assert.Equal([Path.Join(directory.Path, "server.pem")], Values(args, "--tls-cert"));
        Assert.Equal([Path.Join(directory.Path, "server.key")], Values(args, "--tls-key"));
        Assert.Equal([Path.Join(directory.Path, "clients.pem")], Values(args, "--tls-client-ca"));
    }

    [Fact]
    public async Task The_certificate_variables_count_for_serve_only_with_an_https_listener()
    {
        using var directory = new TemporaryDirectory();
        var environment = new Dictionary<string, string> { ["CLEANROOM_TLS_CERT"] = "/etc/cr/server.pem", ["CLEANROOM_TLS_KEY"] = "/etc/cr/server.key" };

        var (exit, args, cli) = await ServeAsync(directory, environment, "--listen", Path.Join(directory.Path, "d.sock"));
        var err = cli.Err;
        cli.Dispose();
        Assert.True(exit == 0, $"serve exited {exit}: {err}"); // failed once in CI with exit 1 and nothing more to go on
        Assert.DoesNotContain("--tls-cert", args);
        Assert.Equal([Path.Join(directory.Path, "d.sock")], Values(args, "--listen"));

        (exit, args, cli) = await ServeAsync(directory, environment, "--listen", "https://[::1]:8443");
        err = cli.Err;
        cli.Dispose();
        Assert.True(exit == 0, $"serve exited {exit}: {err}");
        Assert.Equal(["/etc/cr/server.pem"], Values(args, "--tls-cert"));
        Assert.Equal(["/etc/cr/server.key"], Values(args, "--tls-key"));
    }

    [Fact]
    public async Task Tls_flags_without_an_https_listener_and_two_sockets_are_usage_errors()
    {
        using var directory = new TemporaryDirectory();
        var (exit, args, cli) = await ServeAsync(directory, null, "--listen", "http://127.0.0.1:7777", "--tls-client-ca", "ca.pem");
        using (cli)
        {
            Assert.Equal(2, exit);
            Assert.Empty(args);
            Assert.Contains("need an https:// --listen", cli.Err, StringComparison.Ordinal);
        }

        (exit, args, cli) = await ServeAsync(directory, null, "--listen", "/a.sock", "--listen", "unix:///b.sock");
        using (cli)
        {
            Assert.Equal(2, exit);
            Assert.Contains("one unix socket", cli.Err, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("--tls-ca", "/nonexistent/ca.pem", "--tls-ca /nonexistent/ca.pem")]
    [InlineData("--tls-cert", "/nonexistent/client.pem", "--tls-cert and --tls-key")]
    public async Task A_client_tls_file_that_cannot_be_used_is_a_usage_error_before_connecting(string flag, string value, string expected)
    {
        using var cli = new CliHarness("https://127.0.0.1:1");
        Assert.Equal(2, await cli.RunAsync(flag, value, "sandbox", "ls"));
        Assert.Contains(expected, cli.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("cannot reach", cli.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tls_settings_are_not_read_for_a_unix_socket_endpoint()
    {
        using var directory = new TemporaryDirectory();
        using var cli = new CliHarness("unix://" + Path.Join(directory.Path, "absent.sock"));
        cli.Environment["CLEANROOM_TLS_CA"] = "/nonexistent/ca.pem";
        Assert.Equal(1, await cli.RunAsync("sandbox", "ls"));
        Assert.Contains("cannot reach the daemon", cli.Err, StringComparison.Ordinal);
    }
}
