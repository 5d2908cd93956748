using System.Diagnostics;

namespace Cleanroom.Cli.Tests;

/// <summary>
/// The built <c>cleanroom</c> executable as a child process, for what only a real process shows: how it reacts to
/// signals and how it exits. It runs from <c>cli/</c> beside the tests, a copy of its own build output (see the test
/// project), so it starts with exactly the assemblies it ships with.
/// </summary>
internal sealed class RealCli : IDisposable
{
    private readonly Process _process;
    private readonly Task<string> _stdout;
    private readonly Task<string> _stderr;

    public RealCli(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var start = new ProcessStartInfo(Path.Join(AppContext.BaseDirectory, "cli", "cleanroom"), args)
        {
            // Outside any repository: from within this one, exec would check it out and warn about its changes.
            WorkingDirectory = Path.GetTempPath(),
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        _process = Process.Start(start)!;
        _stdout = _process.StandardOutput.ReadToEndAsync();
        _stderr = _process.StandardError.ReadToEndAsync();
    }

    public int Id => _process.Id;

    /// <summary>Everything the process wrote to its stdout (a pipe), once it has closed it.</summary>
    public Task<string> Stdout => _stdout;

    /// <summary>Sends <paramref name="signal"/> (a name such as TERM) with kill(1): .NET itself only sends SIGKILL.</summary>
    public void Signal(string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", ["-" + signal, Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))!;
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }

    /// <summary>Waits for the exit; <paramref name="bound"/> is the longest a correct CLI may take.</summary>
    public async Task<(int ExitCode, string Stderr)> WaitForExitAsync(TimeSpan bound)
    {
        using var timeout = new CancellationTokenSource(bound);
        await _process.WaitForExitAsync(timeout.Token);
        return (_process.ExitCode, await _stderr);
    }

    /// <summary>
    /// Waits until the process's main thread, which runs the command, blocks in <paramref name="kernelFunction"/>
    /// (its <c>wchan</c>), e.g. <c>wait_for_partner</c> for an open(2) of a FIFO that has no writer. The kernel
    /// offers no notification for this, so the state is looked at every few milliseconds until it shows up or
    /// <paramref name="bound"/> passes. (Only the main thread: the runtime's own threads block in FIFOs too.)
    /// </summary>
    public async Task WaitUntilBlockedInAsync(string kernelFunction, TimeSpan bound)
    {
        var deadline = DateTime.UtcNow + bound;
        while (ReadOrEmpty($"/proc/{Id}/wchan") != kernelFunction)
        {
            Assert.False(_process.HasExited, "the CLI exited before it blocked");
            Assert.True(DateTime.UtcNow < deadline, $"the CLI did not block in {kernelFunction} within {bound}");
            await Task.Delay(10);
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }

        _process.Dispose();
    }

    private static string ReadOrEmpty(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return string.Empty;
        }
    }
}
