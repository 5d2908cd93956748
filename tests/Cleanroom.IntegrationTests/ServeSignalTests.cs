using System.Diagnostics;

namespace Cleanroom.IntegrationTests;

/// <summary>
/// The installed <c>cleanroom serve</c> stopped the way supervisors and terminals stop it: the signal reaches the CLI
/// and the daemon it started together (systemd's default control-group stop, <c>pkill</c>, Ctrl-C to the process
/// group), and the CLI passes its own on as well. The daemon must still stop gracefully and exit 0, not be killed by
/// the copy halfway through stopping its sandboxes.
/// </summary>
public sealed class ServeSignalTests
{
    [Theory]
    [InlineData("TERM")]
    [InlineData("INT")]
    public async Task A_signal_sent_to_serve_and_its_daemon_together_stops_it_gracefully(string signal)
    {
        Assert.True(File.Exists(InstalledCli.Path), $"the CLI is not built at {InstalledCli.Path}: run scripts/setup.sh");
        var state = Directory.CreateTempSubdirectory("cr-it-signal-").FullName;
        Process? started = null;
        try
        {
            var socket = Path.Combine(state, "cleanroom.sock");
            var serve = started = StartServe(state, socket);
            var stdout = serve.StandardOutput.ReadToEndAsync();
            var stderr = serve.StandardError.ReadToEndAsync();
            var daemon = await WaitForDaemonAsync(serve, socket, stderr);

            // Both at once, as a control-group stop sends them.
            using (var kill = Process.Start("kill", ["-" + signal, serve.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), daemon.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }

            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await serve.WaitForExitAsync(timeout.Token);
            var output = await stdout + await stderr;
            Assert.True(serve.ExitCode == 0, $"serve exited {serve.ExitCode} (a daemon killed by the copy of the signal exits 128+N):\n{output}");
            Assert.False(Directory.Exists($"/proc/{daemon}") && File.ReadAllText($"/proc/{daemon}/cmdline").Contains(state, StringComparison.Ordinal), "the daemon is still running");
        }
        finally
        {
            StopLeftover(started);
            started?.Dispose();
            Directory.Delete(state, recursive: true);
        }
    }

    /// <summary>
    /// After a failed test: the serve process and its daemon, if still running, are killed, so a test that failed
    /// while they ran does not leave a daemon behind (a signal test whose signal was ignored once did).
    /// </summary>
    internal static void StopLeftover(Process? serve)
    {
        try
        {
            if (serve is not null && !serve.HasExited)
            {
                serve.Kill(entireProcessTree: true);
                serve.WaitForExit(TimeSpan.FromSeconds(30));
            }
        }
        catch (InvalidOperationException)
        {
            // It exited between the check and the kill.
        }
    }

    /// <summary>
    /// Starts <c>cleanroom serve</c> on a new temporary state directory (after <paramref name="beforeStart"/> prepared
    /// it), runs <paramref name="body"/> with that directory, the socket and the daemon's pid, stops the daemon with
    /// SIGTERM, and returns everything serve printed. Whatever happens, nothing is left running and the directory is
    /// deleted.
    /// </summary>
    internal static async Task<string> WithServeAsync(Func<string, string, int, Task> body, Action<string>? beforeStart = null, bool inStateDirectory = false, IReadOnlyDictionary<string, string>? environment = null)
    {
        Assert.True(File.Exists(InstalledCli.Path), $"the CLI is not built at {InstalledCli.Path}: run scripts/setup.sh");
        var state = Directory.CreateTempSubdirectory("cr-it-serve-").FullName;
        Process? started = null;
        try
        {
            beforeStart?.Invoke(state);
            var socket = Path.Combine(state, "cleanroom.sock");
            var serve = started = StartServe(state, socket, inStateDirectory ? state : null, environment);
            var stdout = serve.StandardOutput.ReadToEndAsync();
            var stderr = serve.StandardError.ReadToEndAsync();
            var daemon = await WaitForDaemonAsync(serve, socket, stderr);
            try
            {
                await body(state, socket, daemon);
            }
            finally
            {
                using (var kill = Process.Start("kill", ["-TERM", daemon.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
                {
                    await kill.WaitForExitAsync();
                }

                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
                await serve.WaitForExitAsync(timeout.Token);
            }

            return await stdout + await stderr;
        }
        finally
        {
            StopLeftover(started);
            started?.Dispose();
            Directory.Delete(state, recursive: true);
        }
    }

    /// <summary>The installed <c>cleanroom serve</c> on <paramref name="state"/>: no network, no templates, stopping its sandboxes.</summary>
    internal static Process StartServe(string state, string socket, string? workingDirectory = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(InstalledCli.Path, ["serve", "--listen", socket, "--state-dir", state, "--network", "off", "--templates", "off", "--on-stop", "stop"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        return Process.Start(start)!;
    }

    /// <summary>The pid of the <c>cleanroom-daemon</c> child once its socket exists.</summary>
    internal static async Task<int> WaitForDaemonAsync(Process serve, string socket, Task<string> stderr)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var watcher = new FileSystemWatcher(Path.GetDirectoryName(socket)!) { EnableRaisingEvents = true };
        var created = new TaskCompletionSource();
        watcher.Created += (_, e) =>
        {
            if (e.FullPath == socket)
            {
                created.TrySetResult();
            }
        };
        if (!File.Exists(socket))
        {
            var done = await Task.WhenAny(created.Task, serve.WaitForExitAsync(timeout.Token));
            Assert.True(done == created.Task, $"serve exited before its daemon listened: {(serve.HasExited ? await stderr : "")}");
        }

        var children = File.ReadAllText($"/proc/{serve.Id}/task/{serve.Id}/children").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return int.Parse(Assert.Single(children), System.Globalization.CultureInfo.InvariantCulture);
    }
}
