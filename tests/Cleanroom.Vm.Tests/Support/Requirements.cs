namespace Cleanroom.Vm.Tests.Support;

/// <summary>A fact that needs qemu-system-x86_64 and qemu-img on this host; skipped with the reason otherwise.</summary>
internal sealed class QemuFactAttribute : FactAttribute
{
    public QemuFactAttribute()
    {
        if (!HostTools.HasQemu)
        {
            Skip = "qemu-system-x86_64 / qemu-img not installed (apt-get install qemu-system-x86 qemu-utils).";
        }
    }
}

/// <summary>A fact that boots the real kernel and initramfs; skipped when no boot assets are built.</summary>
internal sealed class BootAssetsFactAttribute : FactAttribute
{
    public BootAssetsFactAttribute()
    {
        if (!HostTools.HasQemu)
        {
            Skip = "qemu-system-x86_64 / qemu-img not installed (apt-get install qemu-system-x86 qemu-utils).";
        }
        else if (TestAssets.Directory is null)
        {
            Skip = TestAssets.SkipReason;
        }
    }
}

/// <summary>Tests that start QEMU run one at a time: the CI box has two cores.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialQemuTests
{
    public const string Name = "qemu";
}
