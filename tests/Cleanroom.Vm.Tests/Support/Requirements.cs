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

/// <summary>A fact that confines a real QEMU (its own uid, jail, cgroup), which only a root daemon does.</summary>
internal class RootQemuFactAttribute : FactAttribute
{
    public RootQemuFactAttribute()
    {
        if (!HostTools.HasQemu)
        {
            Skip = "qemu-system-x86_64 / qemu-img not installed (apt-get install qemu-system-x86 qemu-utils).";
        }
        else if (Environment.UserName != "root")
        {
            Skip = "QEMU is confined (own uid, mount namespace, cgroup) only when the daemon runs as root.";
        }
    }
}

/// <summary>A <see cref="RootQemuFactAttribute"/> that also needs the memory and pids cgroup controllers.</summary>
internal sealed class CgroupQemuFactAttribute : RootQemuFactAttribute
{
    public CgroupQemuFactAttribute()
    {
        if (Skip is null && Cleanroom.Vm.Qemu.Confinement.CgroupHost.Detect() is { Version: Cleanroom.Vm.Qemu.Confinement.CgroupVersion.None } host)
        {
            Skip = $"No usable cgroup controllers: {host.Description}.";
        }
    }
}

/// <summary>Tests that start QEMU run one at a time: the CI box has two cores.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialQemuTests
{
    public const string Name = "qemu";
}
