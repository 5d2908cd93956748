using Cleanroom.Vm.Assets;

namespace Cleanroom.Vm.Qemu;

/// <summary>
/// The inputs of a KVM probe. It is a value so that it can key the per-process cache: the same binary, device and
/// boot files give the same answer for the lifetime of the process.
/// </summary>
public sealed record AccelProbeRequest(string QemuPath, BootAssets Assets, long? TscKhz)
{
    public string KvmDevicePath { get; init; } = KvmDevice.DefaultPath;

    /// <summary>Under real KVM the probe guest is in userspace well under a second; nested or broken KVM hangs.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(6);
}
