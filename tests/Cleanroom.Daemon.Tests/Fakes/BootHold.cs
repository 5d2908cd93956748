using Cleanroom.Vm;

namespace Cleanroom.Daemon.Tests.Fakes;

/// <summary>
/// A boot paused at one point (the backend's start, or the guest's hello) until the test releases it. The daemon's
/// cancellation still reaches a held boot, as it would reach a slow real one.
/// </summary>
internal sealed class BootHold(VmSpec spec)
{
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>What the daemon asked to boot (its <see cref="VmSpec.Id"/> is the sandbox id).</summary>
    public VmSpec Spec => spec;

    public string SandboxId => spec.Id;

    public void Release() => _released.TrySetResult();

    internal Task WaitAsync(CancellationToken cancellationToken) => _released.Task.WaitAsync(cancellationToken);
}
