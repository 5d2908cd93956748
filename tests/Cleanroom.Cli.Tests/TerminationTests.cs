using System.Net.Sockets;
using System.Runtime.Versioning;
using Cleanroom.Client;

namespace Cleanroom.Cli.Tests;

/// <summary>
/// A supervisor (a CI agent cancelling a job, systemd) sends SIGTERM and expects the process to go: every command
/// ends promptly with 143, whether it notices the cancellation or is stuck in a call that ignores it.
/// </summary>
[UnsupportedOSPlatform("windows")]
public sealed class TerminationTests : IDisposable
{
    // Generous for a loaded 2-core machine; the CLI itself gives a stuck command 2 s.
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private readonly string _directory = Directory.CreateTempSubdirectory("cleanroom-term-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task A_command_waiting_for_a_daemon_that_never_answers_ends_on_sigterm_with_143()
    {
        var socketPath = Path.Join(_directory, "silent.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(socketPath));
        listener.Listen();

        using var cli = new RealCli(Environment(socketPath), "sandbox", "ls");
        // Accepted and never answered: the CLI is running its command and waiting for the daemon.
        using var connection = await listener.AcceptAsync().WaitAsync(Bound);
        cli.Signal("TERM");

        var (exitCode, stderr) = await cli.WaitForExitAsync(Bound);
        Assert.Equal(Signals.ExitCode(Signals.Terminate), exitCode);
        Assert.Contains("cleanroom: interrupted", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_command_stuck_in_a_call_that_ignores_cancellation_still_exits_143_after_the_grace()
    {
        // Opening a FIFO without a writer blocks in open(2), which no cancellation token reaches; image import
        // opens its FILE argument that way. (Policy reads no longer can: they refuse a FIFO without opening it.)
        var fifo = Fifo.Make(Path.Join(_directory, "archive.tar"));
        using var cli = new RealCli(Environment(Path.Join(_directory, "no-daemon.sock")), "image", "import", "stuck:1", fifo);
        await cli.WaitUntilBlockedInAsync("wait_for_partner", Bound);
        cli.Signal("TERM");

        var (exitCode, stderr) = await cli.WaitForExitAsync(Bound);
        Assert.Equal(Signals.ExitCode(Signals.Terminate), exitCode);
        Assert.Contains("cleanroom: still running 2 s after SIGTERM; exiting", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sigint_on_a_stuck_command_ends_it_with_130_after_the_grace()
    {
        var fifo = Fifo.Make(Path.Join(_directory, "archive.tar"));
        using var cli = new RealCli(Environment(Path.Join(_directory, "no-daemon.sock")), "image", "import", "stuck:1", fifo);
        await cli.WaitUntilBlockedInAsync("wait_for_partner", Bound);
        cli.Signal("INT");

        var (exitCode, stderr) = await cli.WaitForExitAsync(Bound);
        Assert.Equal(Signals.ExitCode(Signals.Interrupt), exitCode);
        Assert.Contains("cleanroom: still running 2 s after SIGINT; exiting", stderr, StringComparison.Ordinal);
    }

    private static Dictionary<string, string> Environment(string socketPath) => new()
    {
        [EndpointResolver.HostVariable] = "unix://" + socketPath,
    };
}
