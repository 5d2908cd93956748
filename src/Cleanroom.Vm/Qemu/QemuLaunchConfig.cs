using Cleanroom.Vm.Assets;

namespace Cleanroom.Vm.Qemu;

/// <summary>
/// Everything <see cref="QemuCommandLine"/> needs, already resolved (no Auto, absolute paths). Optional devices are
/// left out when null, which is how the KVM probe gets a minimal machine from the same builder as a real VM.
/// The serial console always goes to QEMU's stdout, where the backend reads it into a size-bounded log.
/// </summary>
public sealed record QemuLaunchConfig
{
    public required AccelMode Accel { get; init; }

    public required int Vcpus { get; init; }

    public required int MemoryMiB { get; init; }

    public required string KernelPath { get; init; }

    public required string InitrdPath { get; init; }

    public required string KernelCommandLine { get; init; }

    /// <summary>Guest name shown in QEMU's own messages.</summary>
    public string? Name { get; init; }

    /// <summary>The qcow2 overlay to boot from; no disk when null.</summary>
    public string? RootDiskPath { get; init; }

    /// <summary>A raw ext4 image attached read-only as the workspace disk (serial <c>cr-workspace</c>); none when null.</summary>
    public string? WorkspaceDiskPath { get; init; }

    /// <summary>Socket for the agent's virtio-serial port; no virtio-serial when null.</summary>
    public string? AgentSocketPath { get; init; }

    public string? QmpSocketPath { get; init; }

    /// <summary>The socket QEMU serves the serial console on; null: the console goes to QEMU's stdout.</summary>
    public string? ConsoleSocketPath { get; init; }

    public string? PidFilePath { get; init; }

    /// <summary>
    /// The descriptor number of an inherited TAP device and the card's MAC; no network device when null.
    /// </summary>
    public (int Descriptor, string Mac)? Tap { get; init; }

    /// <summary>
    /// Guest RAM from a file instead of anonymous memory: shared (the template VM writes the file) or private
    /// (a clone maps the template copy-on-write). Anonymous memory when null.
    /// </summary>
    public (string Path, bool Shared)? MemoryFile { get; init; }

    /// <summary>Start paused, waiting for <c>migrate-incoming</c> over QMP (a clone restored from a template).</summary>
    public bool IncomingDeferred { get; init; }

    /// <summary>
    /// A network card on a hub port with nothing else on it (the template VM: its clones get a TAP, the guest
    /// only sees the same card). Ignored when <see cref="Tap"/> is set.
    /// </summary>
    public string? UnconnectedNicMac { get; init; }

    /// <summary>The configuration for a sandbox VM laid out in <paramref name="workDir"/>.</summary>
    public static QemuLaunchConfig ForVm(VmSpec spec, VmWorkDir workDir, AccelMode accel, string kernelCommandLine) => new()
    {
        Accel = accel,
        Vcpus = spec.Vcpus,
        MemoryMiB = spec.MemoryMiB,
        KernelPath = spec.Assets.KernelPath,
        InitrdPath = spec.Assets.InitrdPath,
        KernelCommandLine = kernelCommandLine,
        Name = spec.Id,
        RootDiskPath = workDir.RootDisk,
        WorkspaceDiskPath = spec.WorkspaceImagePath,
        AgentSocketPath = workDir.AgentSocket,
        QmpSocketPath = workDir.QmpSocket,
        ConsoleSocketPath = workDir.ConsoleSocket,
        PidFilePath = workDir.PidFile,
        Tap = spec.Network is { } network ? ((int)network.Tap.DangerousGetHandle(), network.Mac) : null,
    };

    /// <summary>The smallest machine that proves the guest reaches userspace: kernel, initramfs, serial, nothing else.</summary>
    public static QemuLaunchConfig ForProbe(BootAssets assets, AccelMode accel, string kernelCommandLine) => new()
    {
        Accel = accel,
        Vcpus = 1,
        MemoryMiB = 256,
        KernelPath = assets.KernelPath,
        InitrdPath = assets.InitrdPath,
        KernelCommandLine = kernelCommandLine,
        Name = "cleanroom-accel-probe",
    };
}
