using Cleanroom.Vm.Assets;
using Cleanroom.Vm.Qemu;

namespace Cleanroom.Vm.Tests.Unit;

public sealed class VmSpecTests
{
    private static readonly BootAssets Assets = new("/a/vmlinux", "/a/initramfs.cpio.gz", "/a/base.ext4");

    [Fact]
    public void A_plain_spec_is_valid_and_defaults_to_one_cpu_and_512_mib()
    {
        var spec = new VmSpec("01kr7p9ksmfa7rmyypyqw2w8r0", "/var/lib/cleanroom/sb", Assets);
        spec.Validate();
        Assert.Equal(1, spec.Vcpus);
        Assert.Equal(512, spec.MemoryMiB);
        Assert.Equal("/a/base.ext4", spec.EffectiveRootImagePath);
    }

    [Theory]
    [InlineData("bad id", "/w", 1, 512, "Id")]
    [InlineData("a,b", "/w", 1, 512, "Id")]
    [InlineData("ok", "relative", 1, 512, "WorkDir")]
    [InlineData("ok", "/w", 0, 512, "Vcpus")]
    [InlineData("ok", "/w", 1, 16, "MemoryMiB")]
    public void Invalid_fields_are_named(string id, string workDir, int vcpus, int memory, string field)
    {
        var ex = Assert.Throws<ArgumentException>(() => new VmSpec(id, workDir, Assets, vcpus, memory).Validate());
        Assert.Equal(field, ex.ParamName);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void A_root_disk_floor_must_be_positive(long floor)
    {
        var ex = Assert.Throws<ArgumentException>(() => (new VmSpec("ok", "/w", Assets) { RootDiskMinBytes = floor }).Validate());
        Assert.Equal(nameof(VmSpec.RootDiskMinBytes), ex.ParamName);
    }

    [Fact]
    public void Socket_paths_longer_than_sun_path_are_refused_up_front()
    {
        var dir = new VmWorkDir("/" + new string('d', 100));
        var ex = Assert.Throws<ArgumentException>(dir.ValidateSocketPaths);
        Assert.Contains("107", ex.Message, StringComparison.Ordinal);
    }
}
