using System.Diagnostics;
using System.Net.Sockets;

namespace Cleanroom.IntegrationTests;

/// <summary>
/// The installed <c>cleanroom serve</c> stopped and started again on the same state directory: by default
/// (<c>--on-stop keep</c>) a stop leaves the sandboxes and their commands running and the next daemon takes them over;
/// with <c>--on-stop stop</c> a stop stops them.
/// </summary>
[Collection(DaemonTestGroup.Name)]
public sealed class DaemonRestartTests : IAsyncLifetime
{
    private readonly string _state = Directory.CreateTempSubdirectory("cr-it-restart-").FullName;
    private Process? _serve;

    private string Socket => Path.Combine(_state, "cleanroom.sock");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_serve is not null)
        {
            await StopAsync();
        }

        var left = QemuProcesses();
        foreach (var pid in left)
        {
            Process.GetProcessById(pid).Kill();
        }

        Directory.Delete(_state, recursive: true);
        Assert.True(left.Count == 0, $"{left.Count} QEMU processes of this test's daemon were left running");
    }

    [Fact]
    public async Task By_default_a_stopped_daemon_leaves_its_sandbox_and_command_running_and_the_next_one_takes_them_over()
    {
        await StartAsync();
        var id = (await CliAsync("sandbox", "create")).Stdout.Trim();
        Assert.Equal(0, (await CliAsync("exec", "--in", id, "--", "sh", "-c", "echo kept > /root/marker")).ExitCode);
        var qemu = Assert.Single(QemuProcesses());

        // A command running through the stop, with its client streaming it.
        var running = CliAsync("exec", "--in", id, "--", "sh", "-c", "echo one; while [ ! -e /root/go ]; do sleep 0.1; done; echo two");
        await WaitForRunningExecutionAsync(id);

        var exit = await StopAsync();
        Assert.Equal(0, exit);
        Assert.Equal([qemu], QemuProcesses()); // the same VM, still running with no daemon

        await StartAsync("--on-stop", "stop");
        var inspect = await CliAsync("sandbox", "inspect", id);
        Assert.Contains("status: ready", inspect.Stdout, StringComparison.Ordinal);
        var marker = await CliAsync("exec", "--in", id, "--", "cat", "/root/marker");
        Assert.True(marker.ExitCode == 0 && marker.Stdout.Trim() == "kept", $"exit {marker.ExitCode}: {marker.Stdout} {marker.Stderr}");

        // The command went on, and its client reconnected to the next daemon and printed the rest once.
        Assert.Equal(0, (await CliAsync("exec", "--in", id, "--", "touch", "/root/go")).ExitCode);
        var through = await running.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(through.ExitCode == 0 && through.Stdout == "one\ntwo\n", $"exit {through.ExitCode}: {through.Stdout} {through.Stderr}");
        var record = await CliAsync("execution", "ls", "--in", id, "--all", "--json");
        Assert.DoesNotContain("lost", record.Stdout, StringComparison.Ordinal);

        // This daemon was started with --on-stop stop: its stop stops the sandbox.
        Assert.Equal(0, await StopAsync());
        Assert.Empty(QemuProcesses());
    }

    [Fact]
    public async Task A_sandbox_outlives_a_daemon_killed_with_SIGKILL_and_a_second_crash_too()
    {
        await StartAsync();
        var id = (await CliAsync("sandbox", "create")).Stdout.Trim();
        var qemu = Assert.Single(QemuProcesses());
        for (var crash = 0; crash < 2; crash++)
        {
            await CrashAsync();
            Assert.Equal([qemu], QemuProcesses());
            await StartAsync();
            var ran = await CliAsync("exec", "--in", id, "--", "echo", "still-here");
            Assert.True(ran.ExitCode == 0 && ran.Stdout.Trim() == "still-here", $"after crash {crash + 1}: exit {ran.ExitCode}: {ran.Stdout} {ran.Stderr}");
        }

        Assert.Equal(0, (await CliAsync("sandbox", "rm", id)).ExitCode);
        Assert.Empty(QemuProcesses());
    }

    private Task<(int ExitCode, string Stdout, string Stderr)> CliAsync(params string[] args) => InstalledCli.RunAsync(Socket, null, args);

    /// <summary>Asks the daemon until the sandbox has a running execution (each ask is a full CLI round trip).</summary>
    private async Task WaitForRunningExecutionAsync(string sandboxId)
    {
        var waited = Stopwatch.StartNew();
        while (!(await CliAsync("execution", "ls", "--in", sandboxId, "--json")).Stdout.Contains("RUNNING", StringComparison.Ordinal))
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(60), "the command was not running within 60 s");
        }
    }

    private async Task StartAsync(params string[] extra)
    {
        var start = new ProcessStartInfo(InstalledCli.Path, ["serve", "--listen", Socket, "--state-dir", _state, "--assets", RepoPaths.Assets, "--network", "off", "--templates", "off", .. extra])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        _serve = Process.Start(start)!;
        _serve.OutputDataReceived += (_, _) => { };
        _serve.ErrorDataReceived += (_, _) => { };
        _serve.BeginOutputReadLine();
        _serve.BeginErrorReadLine();

        // Up when the socket accepts a connection: a killed daemon's socket file is still there.
        var waited = Stopwatch.StartNew();
        while (!Accepts(Socket))
        {
            Assert.False(_serve.HasExited, $"serve exited with {(_serve.HasExited ? _serve.ExitCode : 0)} while starting");
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(60), "the daemon did not start within 60 s");
            await Task.Delay(20);
        }
    }

    /// <summary>SIGTERM to serve (which passes it on); returns its exit code.</summary>
    private async Task<int> StopAsync()
    {
        using (var kill = Process.Start("kill", ["-TERM", _serve!.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await _serve.WaitForExitAsync(timeout.Token);
        var code = _serve.ExitCode;
        _serve.Dispose();
        _serve = null;
        return code;
    }

    /// <summary>SIGKILL to the daemon and to serve, as a crash or the OOM killer would.</summary>
    private async Task CrashAsync()
    {
        var daemon = ProcessTree.ChildrenOf(_serve!.Id);
        foreach (var pid in daemon)
        {
            Process.GetProcessById(pid).Kill();
        }

        _serve.Kill();
        await _serve.WaitForExitAsync();
        _serve.Dispose();
        _serve = null;
        foreach (var pid in daemon)
        {
            while (ProcessTree.IsRunning(pid))
            {
                await Task.Delay(10);
            }
        }
    }

    private List<int> QemuProcesses() =>
        Process.GetProcessesByName("qemu-system-x86_64")
            .Where(p => ProcessTree.IsRunning(p.Id) && File.ReadAllText($"/proc/{p.Id}/cmdline").Contains(_state, StringComparison.Ordinal))
            .Select(p => p.Id)
            .ToList();

    private static bool Accepts(string socketPath)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(socketPath));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
