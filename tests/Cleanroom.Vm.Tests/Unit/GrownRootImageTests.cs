using Cleanroom.Vm.Disks;
using Cleanroom.Vm.Tests.Support;

namespace Cleanroom.Vm.Tests.Unit;

/// <summary>
/// A disk floor above the image's size gives the VM a private grown copy (real e2fsprogs on real ext4 images, a few
/// hundred milliseconds); the shared image is never changed.
/// </summary>
public sealed class GrownRootImageTests : IDisposable
{
    private const long MiB = 1024 * 1024;
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task A_smaller_image_is_copied_and_grown_to_the_floor_rounded_up_to_4_MiB()
    {
        var image = await TestExt4.MakeAsync(_dir, "image.ext4", 8 * MiB);
        var copy = _dir.Combine("root.ext4");

        var booted = await GrownRootImage.PrepareAsync(image, (10 * MiB) + 1, copy, CancellationToken.None);

        Assert.Equal(copy, booted);
        Assert.Equal(12 * MiB, new FileInfo(copy).Length);
        Assert.Equal(12 * MiB, await TestExt4.FilesystemBytesAsync(copy)); // the file system grew too, not only the file
        Assert.Equal(TestExt4.HelloContent, await TestExt4.ReadHelloAsync(copy));
        Assert.Equal(
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
            File.GetUnixFileMode(copy)); // the confined VM's uid reads it through the "other" bit

        Assert.Equal(8 * MiB, new FileInfo(image).Length);
        Assert.Equal(8 * MiB, await TestExt4.FilesystemBytesAsync(image));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(8 * MiB)]
    public async Task An_image_that_already_holds_the_floor_is_booted_as_it_is(long floor)
    {
        var image = await TestExt4.MakeAsync(_dir, "image.ext4", 8 * MiB);
        var copy = _dir.Combine("root.ext4");

        Assert.Equal(image, await GrownRootImage.PrepareAsync(image, floor, copy, CancellationToken.None));
        Assert.False(File.Exists(copy));
    }

    [Fact]
    public async Task A_missing_image_is_named()
    {
        var missing = _dir.Combine("missing.ext4");
        var ex = await Assert.ThrowsAsync<VmException>(() => GrownRootImage.PrepareAsync(missing, 16 * MiB, _dir.Combine("root.ext4"), CancellationToken.None));
        Assert.Contains(missing, ex.Message, StringComparison.Ordinal);
    }
}
