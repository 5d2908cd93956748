namespace Cleanroom.Cli.Tests;

/// <summary>What a user sees when no daemon answers.</summary>
public sealed class UnreachableDaemonTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("cleanroom-nodaemon-").FullName;

    private string Socket => Path.Join(_directory, "cleanroom.sock");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData("sandbox", "ls")]
    [InlineData("sandbox", "create")]
    [InlineData("exec", "--", "true")]
    // Its first call follows the command's output, which goes over Connect on HTTP/1.1, not gRPC.
    [InlineData("exec", "--in", "01jabcdefghjkmnpqrstvwxyz0", "--", "true")]
    [InlineData("doctor")]
    public async Task A_missing_socket_is_one_clear_line_and_exit_1(params string[] args)
    {
        using var cli = new CliHarness(Socket);
        Assert.Equal(1, await cli.RunAsync(args));
        Assert.Equal(
            $"cleanroom: cannot reach the daemon at unix://{Socket}: no socket at that path. "
            + "Start it with 'cleanroom serve' (or use ./cleanroom, which starts it).\n",
            cli.Err);
        Assert.Equal("", cli.Out);
    }

    [Fact]
    public async Task A_stale_socket_says_nothing_is_listening()
    {
        // A file where the socket should be, as a crashed daemon leaves it: connecting is refused.
        await File.WriteAllTextAsync(Socket, "");

        using var cli = new CliHarness("unix://" + Socket);
        Assert.Equal(1, await cli.RunAsync("sandbox", "ls"));
        Assert.Contains($"at unix://{Socket}: connection refused (nothing is listening). Start it with", cli.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_default_socket_is_used_without_host_settings()
    {
        using var cli = new CliHarness();
        cli.Environment["XDG_RUNTIME_DIR"] = _directory;
        Assert.Equal(1, await cli.RunAsync("sandbox", "ls"));
        Assert.Contains($"unix://{_directory}/cleanroom/cleanroom.sock: no socket at that path", cli.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Version_still_prints_the_client_version_and_exits_0()
    {
        using var cli = new CliHarness(Socket);
        Assert.Equal(0, await cli.RunAsync("version"));
        Assert.StartsWith("cleanroom version ", cli.Out, StringComparison.Ordinal);
        Assert.Contains($"daemon: not reachable at unix://{Socket}: no socket at that path\n", cli.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_malformed_host_variable_is_a_usage_error()
    {
        using var cli = new CliHarness("localhost:7000");
        Assert.Equal(2, await cli.RunAsync("sandbox", "ls"));
        Assert.StartsWith("cleanroom: invalid endpoint 'localhost:7000'", cli.Err, StringComparison.Ordinal);
    }
}
