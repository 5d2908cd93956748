using System.ComponentModel;
using System.Diagnostics;
using Cleanroom.HostProcesses;
using Cleanroom.Vm.Qemu.Confinement;

namespace Cleanroom.Vm.Qemu;

/// <summary>
/// A running QEMU process this daemon started: from a <see cref="ProcessLaunch"/> (argv, never shell text; the
/// environment is exactly the launch's), stdin held open but never written, stderr and the serial console drained
/// into bounded captures (the console from stdout, or from QEMU's console socket once the caller connects it).
/// <see cref="Exited"/> completes with the exit code once the process is gone and its output has been drained, so
/// error messages built afterwards are complete.
/// </summary>
internal sealed class QemuProcess : IQemuProcess
{
    /// <summary>After exit, how long to wait for output pipes to reach EOF (a forked child could hold them open).</summary>
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(2);

    private readonly Process _process;
    private readonly Task<int> _exited;

    private QemuProcess(Process process, StreamCapture console, StreamCapture stderr)
    {
        _process = process;
        Console = console;
        Stderr = stderr;
        Pid = process.Id;
        _exited = WaitForExitAsync();
    }

    public int Pid { get; }

    /// <summary>The guest serial console.</summary>
    public StreamCapture Console { get; }

    public StreamCapture Stderr { get; }

    /// <summary>Exit code; 128+N when killed by signal N.</summary>
    public Task<int> Exited => _exited;

    /// <summary>
    /// Starts QEMU (through its launcher, which execs it: the pid is QEMU's). Takes ownership of both captures
    /// (disposed with this object). <paramref name="consoleOnStdout"/> false: the console comes from a socket the
    /// caller connects and feeds into <paramref name="console"/>; stdout is drained and dropped.
    /// </summary>
    public static QemuProcess Start(ProcessLaunch launch, StreamCapture console, StreamCapture stderr, bool consoleOnStdout = true)
    {
        var startInfo = new ProcessStartInfo(launch.FileName)
        {
            UseShellExecute = false,

            // A pipe instead of the daemon's stdin: QEMU's stdio chardev would otherwise put a terminal in raw mode
            // and read the user's keystrokes.
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = launch.WorkingDirectory ?? string.Empty,
        };
        foreach (var arg in launch.Arguments)
        {
            startInfo.ArgumentList.Add(arg);
        }

        // Nothing of the daemon's environment (credentials, tokens, socket paths) reaches QEMU.
        startInfo.Environment.Clear();
        foreach (var (name, value) in launch.Environment)
        {
            startInfo.Environment[name] = value;
        }

        var process = new Process { StartInfo = startInfo };
        try
        {
            ChildSpawn.Start(process, launch.InheritedHandles);
        }
        catch (Win32Exception ex)
        {
            process.Dispose();
            throw new VmException($"Could not start {launch.FileName}: {ex.Message}", ex);
        }

        if (consoleOnStdout)
        {
            console.Start(process.StandardOutput.BaseStream);
        }
        else
        {
            _ = process.StandardOutput.BaseStream.CopyToAsync(Stream.Null);
        }

        stderr.Start(process.StandardError.BaseStream);
        return new QemuProcess(process, console, stderr);
    }

    /// <summary>Sends a signal; false if the process is already gone.</summary>
    public bool Signal(int signal) => !_exited.IsCompleted && Posix.TrySignal(Pid, signal);

    public void Kill()
    {
        try
        {
            _process.Kill();
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
    }

    /// <summary>Waits for exit up to <paramref name="timeout"/>; true if the process has exited.</summary>
    public Task<bool> WaitForExitAsync(TimeSpan timeout, CancellationToken ct) => QemuExit.WithinAsync(_exited, timeout, ct);

    /// <summary>The last lines of stderr and of the console, for error messages.</summary>
    public string DescribeOutput(int lines = 15)
    {
        var stderr = TextSanitizer.LastLines(Stderr.PrintableText(), lines);
        return QemuExit.Describe($"qemu stderr (last lines):\n{(stderr.Length > 0 ? stderr : "  (empty)")}\n", Console, lines);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_exited.IsCompleted)
        {
            Kill();
        }

        await _exited;
        await Console.DisposeAsync();
        await Stderr.DisposeAsync();
        _process.Dispose();
    }

    private async Task<int> WaitForExitAsync()
    {
        await _process.WaitForExitAsync(CancellationToken.None);
        try
        {
            await Task.WhenAll(Console.Completion, Stderr.Completion).WaitAsync(DrainTimeout);
        }
        catch (TimeoutException)
        {
            // Someone else holds the pipes; report the exit anyway.
        }
        catch (IOException)
        {
            // A read error on a pipe of a dead process tells us nothing more.
        }

        return _process.ExitCode;
    }
}
