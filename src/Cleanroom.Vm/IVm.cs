namespace Cleanroom.Vm;

/// <summary>
/// One running VM. Disposing it stops the VMM and deletes everything the backend created in
/// <see cref="WorkDir"/> (except the logs when <see cref="VmSpec.KeepLogs"/> is set).
/// </summary>
public interface IVm : IAsyncDisposable
{
    string Id { get; }

    /// <summary>Host process id of the VMM.</summary>
    int Pid { get; }

    string WorkDir { get; }

    /// <summary>The guest serial console (ttyS0), size-bounded.</summary>
    string ConsoleLogPath { get; }

    /// <summary>Completes with the VMM's exit code when it exits for any reason (128+N when killed by signal N).</summary>
    Task<int> Exited { get; }

    /// <summary>
    /// True when the kernel killed the VMM for going over the memory limit of its cgroup (so a death can say why).
    /// Read it before disposing: the cgroup goes with the VM.
    /// </summary>
    bool WasKilledForMemory => false;

    /// <summary>
    /// Connects to the guest agent's port and returns a duplex byte stream. Only one connection is served at a time;
    /// guest writes block until the host connects. Throws <see cref="VmException"/> if the VMM exits first.
    /// </summary>
    Task<Stream> ConnectAgentAsync(CancellationToken ct);

    /// <summary>
    /// What each vCPU is doing right now ("vCPU 0 halted in the kernel at …"), for a guest that does not answer; null
    /// when the VMM cannot say.
    /// </summary>
    Task<string?> DescribeCpusAsync(CancellationToken ct) => Task.FromResult<string?>(null);

    /// <summary>
    /// Stops the VMM: asks it to quit, then SIGTERM, then SIGKILL, giving each polite step up to
    /// <paramref name="grace"/>. Cancelling skips straight to SIGKILL. Returns when the process is gone.
    /// </summary>
    Task StopAsync(TimeSpan grace, CancellationToken ct);

    /// <summary>
    /// Lets the VMM run on without this process (a daemon stopping with its sandboxes kept): closes the control and
    /// console connections and keeps the work directory, uid and cgroup, for the next daemon to take over
    /// (<see cref="IVmBackend.AdoptAsync"/>). Disposing afterwards does nothing.
    /// </summary>
    Task DetachAsync() => throw new NotSupportedException("this VM cannot be left running without its owner.");
}
