using System.Text.RegularExpressions;
using Cleanroom.Vm.Assets;

namespace Cleanroom.Vm;

/// <summary>What to boot. Pure data; a backend validates it with <see cref="Validate"/> before touching the host.</summary>
/// <param name="Id">Sandbox id; letters, digits, '.', '_' and '-' only (it ends up in VMM arguments and logs).</param>
/// <param name="WorkDir">Absolute directory for this VM's runtime files (overlay, sockets, logs). Created if missing.</param>
/// <param name="Assets">Kernel, initramfs and the default root image.</param>
/// <param name="Vcpus">Guest CPUs.</param>
/// <param name="MemoryMiB">Guest memory.</param>
public sealed partial record VmSpec(string Id, string WorkDir, BootAssets Assets, int Vcpus = 1, int MemoryMiB = 512)
{
    public const int MaxVcpus = 64;
    public const int MinMemoryMiB = 64;
    public const int MaxMemoryMiB = 1024 * 1024;

    /// <summary>Raw ext4 image the copy-on-write root disk is layered on; defaults to <see cref="BootAssets.BaseImagePath"/>.</summary>
    public string? RootImagePath { get; init; }

    /// <summary>
    /// The smallest root disk the guest may get, in bytes; null means the root image's own size. When the root image
    /// is smaller, the backend boots a private copy of it grown to this size, made in <see cref="WorkDir"/>.
    /// </summary>
    public long? RootDiskMinBytes { get; init; }

    /// <summary>
    /// A raw ext4 image attached read-only as a second disk (the repository workspace); none when null. The guest mounts
    /// it under a writable overlay when the kernel command line asks it to (<c>cleanroom.workspace=PATH</c>).
    /// </summary>
    public string? WorkspaceImagePath { get; init; }

    /// <summary>Appended to the kernel command line (e.g. network settings for the agent); validated by the builder.</summary>
    public IReadOnlyList<string> ExtraKernelArgs { get; init; } = [];

    /// <summary>The VM's network card; none (no network device at all) when null.</summary>
    public VmNetworkInterface? Network { get; init; }

    /// <summary>
    /// Restore the VM from this template instead of booting it (warm start). The spec must match the template
    /// (<see cref="Templates.VmTemplate.Mismatch"/>); <see cref="ExtraKernelArgs"/> are then not on any kernel
    /// command line: the caller hands them to the agent after the restore.
    /// </summary>
    public Templates.VmTemplate? Template { get; init; }

    /// <summary>Keep console.log and qemu.stderr when the VM is disposed (for debugging a failed sandbox).</summary>
    public bool KeepLogs { get; init; }

    /// <summary>The image the overlay is backed by.</summary>
    public string EffectiveRootImagePath => RootImagePath ?? Assets.BaseImagePath;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid field.</summary>
    public void Validate()
    {
        if (string.IsNullOrEmpty(Id) || Id.Length > 64 || !SafeId().IsMatch(Id))
        {
            throw new ArgumentException($"VM id '{Id}' is invalid: use 1-64 letters, digits, '.', '_' or '-'.", nameof(Id));
        }

        if (!Path.IsPathFullyQualified(WorkDir))
        {
            throw new ArgumentException($"VM work directory '{WorkDir}' must be an absolute path.", nameof(WorkDir));
        }

        if (Vcpus is < 1 or > MaxVcpus)
        {
            throw new ArgumentException($"Vcpus must be between 1 and {MaxVcpus}, not {Vcpus}.", nameof(Vcpus));
        }

        if (MemoryMiB is < MinMemoryMiB or > MaxMemoryMiB)
        {
            throw new ArgumentException($"MemoryMiB must be between {MinMemoryMiB} and {MaxMemoryMiB}, not {MemoryMiB}.", nameof(MemoryMiB));
        }

        if (Network is { } network && (network.Tap.IsInvalid || network.Tap.IsClosed || !MacAddress().IsMatch(network.Mac)))
        {
            throw new ArgumentException($"Network interface is invalid: an open TAP descriptor and a lowercase MAC such as 02:00:00:00:00:01 are needed, not '{network.Mac}'.", nameof(Network));
        }

        if (!Path.IsPathFullyQualified(EffectiveRootImagePath))
        {
            throw new ArgumentException($"Root image path '{EffectiveRootImagePath}' must be absolute.", nameof(RootImagePath));
        }

        if (WorkspaceImagePath is not null && !Path.IsPathFullyQualified(WorkspaceImagePath))
        {
            throw new ArgumentException($"Workspace image path '{WorkspaceImagePath}' must be absolute.", nameof(WorkspaceImagePath));
        }

        if (RootDiskMinBytes is <= 0)
        {
            throw new ArgumentException($"RootDiskMinBytes must be positive, not {RootDiskMinBytes}.", nameof(RootDiskMinBytes));
        }
    }

    [GeneratedRegex("^[A-Za-z0-9._-]+$")]
    private static partial Regex SafeId();

    [GeneratedRegex("^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")]
    private static partial Regex MacAddress();
}
