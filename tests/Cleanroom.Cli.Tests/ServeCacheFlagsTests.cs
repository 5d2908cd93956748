namespace Cleanroom.Cli.Tests;

/// <summary><c>cleanroom serve</c> hands the cache flags to the daemon executable (a script here that records its arguments).</summary>
public sealed class ServeCacheFlagsTests
{
    [Fact]
    public async Task Serve_passes_the_cache_directory_as_an_absolute_path_and_the_size_as_written()
    {
        using var directory = new TemporaryDirectory();
        var recorded = Path.Join(directory.Path, "args");
        var daemon = directory.Write("daemon.sh", $"#!/bin/sh\nprintf '%s\\n' \"$@\" > '{recorded}'\n");
        File.SetUnixFileMode(daemon, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        using var cli = new CliHarness { WorkingDirectory = directory.Path };
        cli.Environment["CLEANROOM_DAEMON"] = daemon;
        var relative = Path.GetRelativePath(Directory.GetCurrentDirectory(), Path.Join(directory.Path, "my-cache"));
        Assert.Equal(0, await cli.RunAsync(
            "serve", "--listen", Path.Join(directory.Path, "d.sock"), "--state-dir", Path.Join(directory.Path, "state"),
            "--cache-dir", relative, "--cache-max-size", "20GiB"));

        var args = File.ReadAllLines(recorded);
        Assert.Equal(Path.Join(directory.Path, "my-cache"), args[Array.IndexOf(args, "--cache-dir") + 1]);
        Assert.Equal("20GiB", args[Array.IndexOf(args, "--cache-max-size") + 1]);
    }

    [Fact]
    public async Task Without_cache_flags_serve_leaves_the_defaults_to_the_daemon()
    {
        using var directory = new TemporaryDirectory();
        var recorded = Path.Join(directory.Path, "args");
        var daemon = directory.Write("daemon.sh", $"#!/bin/sh\nprintf '%s\\n' \"$@\" > '{recorded}'\n");
        File.SetUnixFileMode(daemon, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        using var cli = new CliHarness();
        cli.Environment["CLEANROOM_DAEMON"] = daemon;
        Assert.Equal(0, await cli.RunAsync("serve", "--listen", Path.Join(directory.Path, "d.sock"), "--state-dir", Path.Join(directory.Path, "state")));

        var args = File.ReadAllLines(recorded);
        Assert.DoesNotContain("--cache-dir", args);
        Assert.DoesNotContain("--cache-max-size", args);
    }

    [Fact]
    public async Task Serve_passes_the_gateway_flags_with_the_credentials_files_made_absolute()
    {
        using var directory = new TemporaryDirectory();
        var recorded = Path.Join(directory.Path, "args");
        var daemon = directory.Write("daemon.sh", $"#!/bin/sh\nprintf '%s\\n' \"$@\" > '{recorded}'\n");
        File.SetUnixFileMode(daemon, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        using var cli = new CliHarness();
        cli.Environment["CLEANROOM_DAEMON"] = daemon;
        var relative = Path.GetRelativePath(Directory.GetCurrentDirectory(), Path.Join(directory.Path, "credentials.json"));
        Assert.Equal(0, await cli.RunAsync(
            "serve", "--listen", Path.Join(directory.Path, "d.sock"), "--state-dir", Path.Join(directory.Path, "state"),
            "--gateway", "on", "--gateway-credentials", relative, "--gateway-registry-auth", Path.Join(Path.GetDirectoryName(relative), "docker-config.json"),
            "--gateway-upstream", "a.test=http://127.0.0.1:1", "--gateway-upstream", "b.test=http://127.0.0.1:2"));

        var args = File.ReadAllLines(recorded);
        Assert.Equal("on", args[Array.IndexOf(args, "--gateway") + 1]);
        Assert.Equal(Path.Join(directory.Path, "credentials.json"), args[Array.IndexOf(args, "--gateway-credentials") + 1]);
        Assert.Equal(Path.Join(directory.Path, "docker-config.json"), args[Array.IndexOf(args, "--gateway-registry-auth") + 1]);
        Assert.Equal(["a.test=http://127.0.0.1:1", "b.test=http://127.0.0.1:2"], args.Select((a, i) => (a, i)).Where(p => p.a == "--gateway-upstream").Select(p => args[p.i + 1]));
    }
}
