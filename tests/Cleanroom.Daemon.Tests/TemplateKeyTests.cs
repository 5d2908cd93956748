using Cleanroom.Daemon.Templates;
using Cleanroom.Vm.Assets;
using Cleanroom.Vm.Qemu;

namespace Cleanroom.Daemon.Tests;

public sealed class TemplateKeyTests
{
    private static readonly BootAssets Assets = new("/nonexistent/vmlinux", "/nonexistent/initrd", "/nonexistent/base.ext4");

    [Fact]
    public void A_qemu_template_is_keyed_by_the_guest_cpu_model_it_was_booted_with()
    {
        var tcg = TemplateKey.For("qemu", "tcg", Assets, Assets.BaseImagePath, 2, 512, network: true, workspace: false);
        var kvm = TemplateKey.For("qemu", "kvm", Assets, Assets.BaseImagePath, 2, 512, network: true, workspace: false);

        Assert.Equal(QemuCommandLine.TcgCpu, tcg.Cpu);
        Assert.Equal(QemuCommandLine.KvmCpu, kvm.Cpu);

        // A template snapshotted by a daemon that booted guests with another CPU model (before an upgrade) misses.
        var older = tcg with { Cpu = "max" };
        Assert.NotEqual(older.Digest, tcg.Digest);
        Assert.NotEqual(older, tcg);
    }

    [Fact]
    public void Other_backends_have_no_cpu_model_in_their_key()
    {
        var key = TemplateKey.For("firecracker", "kvm", Assets, Assets.BaseImagePath, 1, 256, network: false, workspace: false);

        Assert.Equal("", key.Cpu);
    }
}
