using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Cleanroom.Vm;
using Cleanroom.Vm.Assets;
using Cleanroom.Vm.Qemu;

namespace Cleanroom.Daemon.Templates;

/// <summary>
/// Everything a restored clone shares with its template: the backend, accelerator and guest CPU model, the kernel and
/// initramfs (the agent build is inside it), the root image, vCPUs, memory and the device set. Files are identified by path, size
/// and modification time, so a rebuilt asset or image gives a new key and the old template is never used again.
/// </summary>
internal sealed record TemplateKey(string Backend, string Accel, string Cpu, string Assets, string RootImage, int Vcpus, int MemoryMiB, bool Network, bool Workspace)
{
    public static TemplateKey For(string backend, string accel, BootAssets assets, VmSpec spec) =>
        For(backend, accel, assets, spec.EffectiveRootImagePath, spec.Vcpus, spec.MemoryMiB, spec.Network is not null, spec.WorkspaceImagePath is not null);

    public static TemplateKey For(string backend, string accel, BootAssets assets, string rootImagePath, int vcpus, int memoryMiB, bool network, bool workspace) => new(
        backend,
        accel,
        CpuModel(backend, accel),
        FileIdentity(assets.KernelPath) + "|" + FileIdentity(assets.InitrdPath),
        FileIdentity(rootImagePath),
        vcpus,
        memoryMiB,
        network,
        workspace);

    /// <summary>A short stable name for directories and logs.</summary>
    public string Digest
    {
        get
        {
            var text = string.Join('\n', Backend, Accel, Cpu, Assets, RootImage, Vcpus.ToString(CultureInfo.InvariantCulture), MemoryMiB.ToString(CultureInfo.InvariantCulture), Network, Workspace);
            return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16];
        }
    }

    /// <summary>
    /// The CPU the guest was booted with: a snapshot restored under another model (a daemon upgrade that changed it)
    /// would run on features it did not probe, so it must miss and be rebuilt.
    /// </summary>
    private static string CpuModel(string backend, string accel) =>
        backend == "qemu" && Enum.TryParse<AccelMode>(accel, ignoreCase: true, out var mode) && mode is AccelMode.Tcg or AccelMode.Kvm
            ? QemuCommandLine.CpuModel(mode)
            : "";

    private static string FileIdentity(string path)
    {
        var info = new FileInfo(path);
        return info.Exists
            ? string.Create(CultureInfo.InvariantCulture, $"{info.FullName}:{info.Length}:{info.LastWriteTimeUtc.Ticks}")
            : info.FullName + ":missing";
    }
}
