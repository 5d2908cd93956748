using Cleanroom.HostProcesses;

namespace Cleanroom.Vm.Qemu;

/// <summary>
/// A QEMU an earlier daemon started and this one took over after a restart. It is not our child, so it is watched
/// and signalled through a pidfd (<see cref="ProcessHandle"/>), and its exit status is unknown. Its stderr went to the
/// earlier daemon and is not captured; its console comes from the console socket the caller connects.
/// </summary>
internal sealed class AdoptedQemuProcess : IQemuProcess
{
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(2);
    private readonly ProcessHandle _handle;
    private readonly Task<int> _exited;

    /// <summary>Takes ownership of <paramref name="handle"/> and <paramref name="console"/>.</summary>
    public AdoptedQemuProcess(ProcessHandle handle, StreamCapture console)
    {
        _handle = handle;
        Console = console;
        _exited = WaitForExitAsync();
    }

    public int Pid => _handle.Pid;

    public StreamCapture Console { get; }

    public Task<int> Exited => _exited;

    public bool Signal(int signal) => !_exited.IsCompleted && _handle.TrySignal(signal);

    public void Kill() => Signal(Posix.SigKill);

    public Task<bool> WaitForExitAsync(TimeSpan timeout, CancellationToken ct) => QemuExit.WithinAsync(_exited, timeout, ct);

    public string DescribeOutput(int lines = 15) =>
        QemuExit.Describe("qemu stderr: not captured (this QEMU was started by an earlier daemon)\n", Console, lines);

    public async ValueTask DisposeAsync()
    {
        if (!_exited.IsCompleted)
        {
            Kill();
        }

        await _exited;
        await Console.DisposeAsync();
        _handle.Dispose();
    }

    private async Task<int> WaitForExitAsync()
    {
        // No thread of its own: every adopted QEMU's pidfd is watched by the one shared waiting thread. The handle is
        // only closed after this returns.
        await _handle.Exited;

        try
        {
            await Console.Completion.WaitAsync(DrainTimeout);
        }
        catch (Exception ex) when (ex is TimeoutException or IOException)
        {
            // The console socket closes with QEMU; if it does not, report the exit anyway.
        }

        return ExitStatus.Unknown;
    }
}
