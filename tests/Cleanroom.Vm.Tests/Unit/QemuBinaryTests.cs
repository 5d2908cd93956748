using Cleanroom.Vm.Qemu;
using Cleanroom.Vm.Tests.Support;

namespace Cleanroom.Vm.Tests.Unit;

public sealed class QemuBinaryTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void The_environment_variable_overrides_path()
    {
        var fake = _dir.WriteScript("my-qemu", "exit 0");
        Assert.Equal(fake, QemuBinary.Locate(name => name == "CLEANROOM_QEMU" ? fake : "/nonexistent"));
    }

    [Fact]
    public void A_bad_override_is_an_error_naming_the_variable()
    {
        var ex = Assert.Throws<VmException>(() => QemuBinary.Locate(name => name == "CLEANROOM_QEMU" ? "/nope/qemu" : null));
        Assert.Contains("$CLEANROOM_QEMU", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Found_on_path()
    {
        var fake = _dir.WriteScript("qemu-system-x86_64", "exit 0");
        Assert.Equal(fake, QemuBinary.Locate(name => name == "PATH" ? "/nonexistent:" + _dir.Path : null));
    }

    [Fact]
    public void Missing_binary_says_what_to_install()
    {
        var ex = Assert.Throws<VmException>(() => QemuBinary.Locate(name => name == "PATH" ? _dir.Path : null));
        Assert.Contains("qemu-system-x86", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Qemu_img_next_to_an_overridden_qemu_wins_over_path()
    {
        var qemu = _dir.WriteScript("qemu-system-x86_64", "exit 0");
        var img = _dir.WriteScript("qemu-img", "exit 0");
        Assert.Equal(img, QemuBinary.LocateImg(qemu, name => name == "PATH" ? "/usr/bin" : null));
    }

    [Fact]
    public void Parses_version_and_accelerators()
    {
        Assert.Equal(
            "7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)",
            QemuBinary.ParseVersion("QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)\nCopyright (c) 2003-2022 Fabrice Bellard\n"));
        Assert.Equal(["tcg", "kvm"], QemuBinary.ParseAccelerators("Accelerators supported in QEMU binary:\ntcg\nkvm\n"));
    }

    [Fact]
    public void Leftover_detection_requires_a_qemu_binary_and_the_work_dir()
    {
        const string dir = "/var/lib/cr/sandboxes/abc";
        Assert.True(QemuLeftovers.IsQemuFor("/usr/bin/qemu-system-x86_64\0-M\0microvm\0-pidfile\0/var/lib/cr/sandboxes/abc/qemu.pid\0", dir));
        Assert.False(QemuLeftovers.IsQemuFor("/usr/bin/qemu-system-x86_64\0-pidfile\0/var/lib/cr/sandboxes/abcd/qemu.pid\0", dir));
        Assert.False(QemuLeftovers.IsQemuFor("/usr/bin/vim\0/var/lib/cr/sandboxes/abc/qemu.pid\0", dir));
        Assert.True(QemuLeftovers.IsQemuFor("qemu-system-x86_64\0-drive\0file=/tmp/a,,b/root.qcow2\0", "/tmp/a,b"));
    }
}
