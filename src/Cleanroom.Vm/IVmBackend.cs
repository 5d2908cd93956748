using Cleanroom.Vm.Doctor;
using Cleanroom.Vm.Templates;

namespace Cleanroom.Vm;

/// <summary>A way of running microVMs (QEMU today, Firecracker later).</summary>
public interface IVmBackend
{
    /// <summary>Short stable name used in configuration and output, e.g. "qemu".</summary>
    string Name { get; }

    /// <summary>
    /// Boots a VM, first making the grown private copy of its root image that <see cref="VmSpec.RootDiskMinBytes"/>
    /// asks for. Returns once the VMM is up and controllable; the guest is still booting. Throws
    /// <see cref="VmException"/> (with the VMM's stderr and console tails) when the VMM fails to start.
    /// </summary>
    Task<IVm> StartAsync(VmSpec spec, CancellationToken ct);

    /// <summary>
    /// Runs once when the owning process starts, before it starts any VM: stops the VMs a predecessor left running
    /// with their work directories directly under <paramref name="workRoot"/>, except those it took over
    /// (<paramref name="adopted"/>, full paths), and releases the host resources they held (cgroups). The work
    /// directories themselves stay for the caller to delete. Never touches a process that is not such a VM.
    /// </summary>
    Task ReapLeftoversAsync(string workRoot, IReadOnlySet<string> adopted, CancellationToken ct);

    /// <summary>Whether <see cref="AdoptAsync"/> works on this backend.</summary>
    bool SupportsAdoption => false;

    /// <summary>
    /// Takes over the VM an earlier daemon started for <paramref name="spec"/> (same id and work directory) and left
    /// running when it stopped or died. Throws <see cref="VmException"/> when it is gone or cannot be controlled; a VM
    /// that runs but cannot be taken over is stopped first, so nothing is left running without an owner.
    /// </summary>
    Task<IVm> AdoptAsync(VmSpec spec, CancellationToken ct) =>
        throw new NotSupportedException($"the {Name} backend cannot take over running VMs.");

    /// <summary>Decides KVM or TCG once per process (probing if needed) and returns the cached decision afterwards.</summary>
    Task<AccelDecision> ResolveAccelAsync(CancellationToken ct);

    /// <summary>Whether <see cref="BuildTemplateAsync"/> works on this backend.</summary>
    bool SupportsTemplates => false;

    /// <summary>
    /// Boots the VM <paramref name="request"/> describes with its agent in template mode, waits for
    /// <paramref name="untilServing"/> (which proves the agent answers and disconnects), saves it and stops it.
    /// Returns the template clones are restored from (<see cref="VmSpec.Template"/>). Throws
    /// <see cref="VmException"/> when any step fails; nothing of the attempt is left behind.
    /// </summary>
    Task<VmTemplate> BuildTemplateAsync(VmTemplateRequest request, Func<IVm, CancellationToken, Task> untilServing, CancellationToken ct) =>
        throw new NotSupportedException($"the {Name} backend has no VM templates.");

    /// <summary>Host prerequisites of this backend, for <c>cleanroom doctor</c>. Never throws for a failed check.</summary>
    Task<IReadOnlyList<DoctorCheck>> RunDoctorChecksAsync(CancellationToken ct);
}
