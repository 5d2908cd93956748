using Cleanroom.HostProcesses;

namespace Cleanroom.Vm.Qemu;

/// <summary>
/// A QEMU process a <see cref="QemuVm"/> controls: one this daemon started (<see cref="QemuProcess"/>), or one an
/// earlier daemon started and this one adopted after a restart (<see cref="AdoptedQemuProcess"/>).
/// </summary>
internal interface IQemuProcess : IAsyncDisposable
{
    int Pid { get; }

    /// <summary>The guest serial console (its capture; fed from stdout or from QEMU's console socket).</summary>
    StreamCapture Console { get; }

    /// <summary>Exit code; 128+N when killed by signal N; <see cref="ExitStatus.Unknown"/> for an adopted process.</summary>
    Task<int> Exited { get; }

    /// <summary>Sends a signal; false if the process is already gone.</summary>
    bool Signal(int signal);

    void Kill();

    /// <summary>Waits for exit up to <paramref name="timeout"/>; true if the process has exited.</summary>
    Task<bool> WaitForExitAsync(TimeSpan timeout, CancellationToken ct);

    /// <summary>The last lines of stderr and of the console, for error messages.</summary>
    string DescribeOutput(int lines = 15);
}
