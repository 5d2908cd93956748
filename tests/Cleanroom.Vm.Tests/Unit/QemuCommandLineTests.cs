using Cleanroom.Vm.Assets;
using Cleanroom.Vm.Qemu;

namespace Cleanroom.Vm.Tests.Unit;

public sealed class QemuCommandLineTests
{
    private static readonly BootAssets Assets = new("/a/vmlinux", "/a/initramfs.cpio.gz", "/a/base.ext4");

    [Fact]
    public void Builds_the_exact_argv_for_a_tcg_sandbox()
    {
        var spec = new VmSpec("sb1", "/var/lib/cr/sb1", Assets, Vcpus: 2, MemoryMiB: 1024);
        var argv = QemuCommandLine.Build(QemuLaunchConfig.ForVm(spec, new VmWorkDir(spec.WorkDir), AccelMode.Tcg, "console=ttyS0"));

        string[] expected =
        [
            "-M", "microvm,x-option-roms=off,isa-serial=on,rtc=on", "-nodefaults", "-no-user-config", "-nographic", "-no-reboot",
            "-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny",
            "-name", "sb1",
            "-accel", "tcg,thread=multi,tb-size=256", "-cpu", "max,erms=off,fsrm=off",
            "-smp", "2", "-m", "1024",
            "-kernel", "/a/vmlinux", "-initrd", "/a/initramfs.cpio.gz", "-append", "console=ttyS0",
            "-drive", "id=root,file=/var/lib/cr/sb1/root.qcow2,format=qcow2,if=none,cache=unsafe,discard=unmap",
            "-device", "virtio-blk-device,drive=root",
            "-device", "virtio-serial-device",
            "-chardev", "socket,id=agent,path=/var/lib/cr/sb1/run/agent.sock,server=on,wait=off",
            "-device", "virtserialport,chardev=agent,name=cleanroom.agent",
            "-device", "virtio-rng-device",
            "-chardev", "socket,id=console,path=/var/lib/cr/sb1/run/console.sock,server=on,wait=on", "-serial", "chardev:console",
            "-qmp", "unix:/var/lib/cr/sb1/run/qmp.sock,server=on,wait=off",
            "-pidfile", "/var/lib/cr/sb1/run/qemu.pid",
        ];
        Assert.Equal(expected, argv);
    }

    [Fact]
    public void Kvm_uses_the_host_cpu_model()
    {
        var argv = Build(AccelMode.Kvm);
        Assert.Contains("-accel kvm -cpu host ", string.Join(' ', argv), StringComparison.Ordinal);
        Assert.DoesNotContain("tcg,thread=multi", argv);
    }

    [Fact]
    public void Refuses_an_unresolved_accelerator()
    {
        Assert.Throws<ArgumentException>(() => Build(AccelMode.Auto));
        Assert.Throws<ArgumentException>(() => QemuCommandLine.KernelArgs(AccelMode.Auto));
    }

    [Fact]
    public void Only_a_tcg_guest_is_taken_off_rep_string_copies()
    {
        Assert.Equal(["clearcpuid=rep_good"], QemuCommandLine.KernelArgs(AccelMode.Tcg));
        Assert.Empty(QemuCommandLine.KernelArgs(AccelMode.Kvm));
    }

    [Fact]
    public void Probe_machine_has_only_kernel_initrd_and_console()
    {
        var argv = QemuCommandLine.Build(QemuLaunchConfig.ForProbe(Assets, AccelMode.Kvm, "cleanroom.probe=1"));
        var joined = string.Join(' ', argv);
        Assert.DoesNotContain("-drive", argv);
        Assert.DoesNotContain("-qmp", argv);
        Assert.DoesNotContain("-pidfile", argv);
        Assert.DoesNotContain("virtio-serial-device", argv);
        Assert.Contains("-smp 1 -m 256 -kernel /a/vmlinux -initrd /a/initramfs.cpio.gz -append cleanroom.probe=1", joined, StringComparison.Ordinal);
        Assert.Contains("-chardev stdio,id=console,signal=off -serial chardev:console", joined, StringComparison.Ordinal);
    }

    [Fact]
    public void Commas_in_paths_are_doubled_inside_option_lists_but_not_elsewhere()
    {
        var spec = new VmSpec("sb", "/tmp/a,b", Assets);
        var argv = QemuCommandLine.Build(QemuLaunchConfig.ForVm(spec, new VmWorkDir(spec.WorkDir), AccelMode.Tcg, "x"));
        Assert.Contains("id=root,file=/tmp/a,,b/root.qcow2,format=qcow2,if=none,cache=unsafe,discard=unmap", argv);
        Assert.Contains("socket,id=agent,path=/tmp/a,,b/run/agent.sock,server=on,wait=off", argv);
        Assert.Contains("unix:/tmp/a,,b/run/qmp.sock,server=on,wait=off", argv);
        Assert.Equal("/tmp/a,b/run/qemu.pid", argv[^1]);
    }

    [Fact]
    public void A_workspace_image_is_a_read_only_disk_with_the_serial_the_agent_looks_for()
    {
        var spec = new VmSpec("sb", "/w", Assets) { WorkspaceImagePath = "/store/ab,c.ext4" };
        var argv = QemuCommandLine.Build(QemuLaunchConfig.ForVm(spec, new VmWorkDir("/w"), AccelMode.Tcg, "x"));
        Assert.Contains("id=workspace,file=/store/ab,,c.ext4,format=raw,if=none,readonly=on", argv);
        Assert.Contains("virtio-blk-device,drive=workspace,serial=cr-workspace", argv);
        Assert.DoesNotContain(Build(AccelMode.Tcg), a => a.Contains("workspace", StringComparison.Ordinal));
        Assert.Throws<ArgumentException>(() => (spec with { WorkspaceImagePath = "relative.ext4" }).Validate());
    }

    [Fact]
    public void Overlay_is_created_against_an_absolute_base_path()
    {
        var args = RootDisk.CreateArguments("relative/base.ext4", "/w/root.qcow2");
        Assert.Equal(["create", "-q", "-f", "qcow2", "-b", Path.GetFullPath("relative/base.ext4"), "-F", "raw", "/w/root.qcow2"], args);
    }

    private static IReadOnlyList<string> Build(AccelMode accel)
    {
        var spec = new VmSpec("sb", "/w", Assets);
        return QemuCommandLine.Build(QemuLaunchConfig.ForVm(spec, new VmWorkDir("/w"), accel, "x"));
    }
}
