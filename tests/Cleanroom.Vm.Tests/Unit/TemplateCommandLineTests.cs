using Cleanroom.Vm.Assets;
using Cleanroom.Vm.Qemu;
using Cleanroom.Vm.Qemu.Confinement;

namespace Cleanroom.Vm.Tests.Unit;

/// <summary>The QEMU arguments that make a template VM and its clones: same machine and devices, RAM from a file.</summary>
public sealed class TemplateCommandLineTests
{
    private static readonly BootAssets Assets = new("/a/vmlinux", "/a/initramfs.cpio.gz", "/a/base.ext4");

    [Fact]
    public void A_template_vm_shares_its_ram_file_and_has_an_unconnected_card()
    {
        var argv = Build(c => c with { MemoryFile = ("/proc/self/fd/7", true), UnconnectedNicMac = "02:00:00:00:00:fe" });

        Assert.Equal("microvm,x-option-roms=off,isa-serial=on,rtc=on,memory-backend=mem", argv[argv.IndexOf("-M") + 1]);
        Assert.Contains("memory-backend-file,id=mem,size=512M,mem-path=/proc/self/fd/7,share=on", argv);
        Assert.Contains("hubport,id=net0,hubid=0", argv);
        Assert.Contains("virtio-net-device,netdev=net0,mac=02:00:00:00:00:fe", argv);
        Assert.DoesNotContain("-incoming", argv);
    }

    [Fact]
    public void A_clone_maps_the_ram_privately_waits_for_its_state_and_uses_its_tap()
    {
        var argv = Build(c => c with { MemoryFile = ("/proc/self/fd/7", false), IncomingDeferred = true, Tap = (5, "02:00:00:00:00:01"), UnconnectedNicMac = "02:00:00:00:00:fe" });

        Assert.Contains("memory-backend-file,id=mem,size=512M,mem-path=/proc/self/fd/7,share=off", argv);
        Assert.Equal("defer", argv[argv.IndexOf("-incoming") + 1]);
        Assert.Contains("tap,id=net0,fd=5", argv);
        Assert.DoesNotContain("hubport,id=net0,hubid=0", argv);
    }

    [Fact]
    public void A_plain_vm_has_anonymous_ram()
    {
        var argv = Build(c => c);

        Assert.Equal(QemuCommandLine.Machine, argv[argv.IndexOf("-M") + 1]);
        Assert.DoesNotContain(argv, a => a.StartsWith("memory-backend-file", StringComparison.Ordinal));
    }

    [Fact]
    public void Only_a_vm_that_asks_keeps_a_proc_of_its_own_processes_in_the_jail()
    {
        var confinement = new QemuConfinement { JailMountPoint = "/j" };

        Assert.DoesNotContain("ownproc:", QemuLauncher.Build("/q", [], confinement).Arguments);
        Assert.Contains("ownproc:", QemuLauncher.Build("/q", [], confinement with { OwnProcessesProc = true }).Arguments);
    }

    private static List<string> Build(Func<QemuLaunchConfig, QemuLaunchConfig> adjust)
    {
        var spec = new VmSpec("sb1", "/var/lib/cr/sb1", Assets);
        return [.. QemuCommandLine.Build(adjust(QemuLaunchConfig.ForVm(spec, new VmWorkDir(spec.WorkDir), AccelMode.Tcg, "console=ttyS0")))];
    }
}
