using System.Diagnostics;
using Cleanroom.HostProcesses;

namespace Cleanroom.Vm.Tests.Unit;

public sealed class HostCommandTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Returns_output_of_a_successful_command()
    {
        var result = await HostCommand.RunAsync("/bin/sh", ["-c", "echo out; echo err >&2"], Timeout, CancellationToken.None);
        Assert.Equal(new HostCommandResult(0, "out\n", "err\n"), result);
    }

    [Fact]
    public async Task Non_zero_exit_names_the_command_and_shows_the_stderr_tail()
    {
        var ex = await Assert.ThrowsAsync<HostCommandException>(() =>
            HostCommand.RunAsync("/bin/sh", ["-c", "echo first >&2; echo 'the real problem' >&2; exit 3"], Timeout, CancellationToken.None));
        Assert.Equal(3, ex.ExitCode);
        Assert.Contains("/bin/sh -c", ex.Message, StringComparison.Ordinal);
        Assert.Contains("exit code 3", ex.Message, StringComparison.Ordinal);
        Assert.Contains("the real problem", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Try_run_returns_a_non_zero_exit_code()
    {
        var result = await HostCommand.TryRunAsync("/bin/sh", ["-c", "exit 7"], Timeout, CancellationToken.None);
        Assert.Equal(7, result.ExitCode);
    }

    [Fact]
    public async Task A_missing_tool_is_reported_by_name()
    {
        var ex = await Assert.ThrowsAsync<HostCommandException>(() =>
            HostCommand.RunAsync("/nonexistent/tool", ["--version"], Timeout, CancellationToken.None));
        Assert.Contains("/nonexistent/tool --version", ex.Message, StringComparison.Ordinal);
        Assert.Null(ex.ExitCode);
    }

    [Fact]
    public async Task A_hung_tool_is_killed_at_the_timeout()
    {
        var stopwatch = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<HostCommandException>(() =>
            HostCommand.RunAsync("/bin/sleep", ["30"], TimeSpan.FromMilliseconds(200), CancellationToken.None));
        Assert.Contains("timed out", ex.Message, StringComparison.Ordinal);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Cancellation_kills_the_tool_and_throws_cancelled()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => HostCommand.RunAsync("/bin/sleep", ["30"], Timeout, cts.Token));
    }

    [Fact]
    public async Task Output_is_bounded_to_its_tail()
    {
        var result = await HostCommand.RunAsync("/bin/sh", ["-c", "head -c 3000000 /dev/zero | tr '\\0' a; echo END"], Timeout, CancellationToken.None);
        Assert.Equal(HostCommand.MaxOutputBytes, result.Stdout.Length);
        Assert.EndsWith("aEND\n", result.Stdout, StringComparison.Ordinal);
    }
}
