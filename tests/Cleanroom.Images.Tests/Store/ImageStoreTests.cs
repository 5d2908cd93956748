using Cleanroom.Images.Store;
using Cleanroom.Oci;

namespace Cleanroom.Images.Tests.Store;

/// <summary>The image metadata survives restarts, dedupes by digest and never reports an image whose file is gone.</summary>
public sealed class ImageStoreTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cr-store-").FullName;

    [Fact]
    public void Refs_point_at_one_image_and_survive_reopening()
    {
        var digest = Digest.Of("image"u8);
        var rootfs = Path.Combine(_dir, "a.ext4");
        File.WriteAllText(rootfs, "x");
        using (var store = new ImageStore(Path.Combine(_dir, "metadata.db")))
        {
            store.Save(Record(digest, rootfs), ["reg/app:v1", "reg/app@" + digest]);
            store.AddRef("reg/app:latest", digest);
        }

        using var reopened = new ImageStore(Path.Combine(_dir, "metadata.db"));
        var image = Assert.Single(reopened.List());
        Assert.Equal(3, image.Refs.Count);
        Assert.Equal(digest, reopened.FindByRef("reg/app:latest")!.Digest);
        Assert.Equal(new RunDefaults { WorkingDir = "/src", Env = ["A=1"] }.WorkingDir, image.Defaults.WorkingDir);
        Assert.Equal(["A=1"], image.Defaults.Env!);
    }

    [Fact]
    public void An_image_whose_rootfs_file_is_gone_is_not_found_and_delete_drops_its_refs()
    {
        var digest = Digest.Of("gone"u8);
        var rootfs = Path.Combine(_dir, "gone.ext4");
        File.WriteAllText(rootfs, "x");
        using var store = new ImageStore(Path.Combine(_dir, "metadata.db"));
        store.Save(Record(digest, rootfs), ["r/gone:1"]);

        File.Delete(rootfs);
        Assert.Null(store.Find(digest));
        Assert.Null(store.FindByRef("r/gone:1"));

        store.Delete(digest);
        Assert.Empty(store.List());
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static ImageRecord Record(Digest digest, string rootfs) => new()
    {
        Digest = digest,
        RootfsPath = rootfs,
        ContentBytes = 10,
        FilesystemBytes = 512L << 20,
        CreatedAt = DateTimeOffset.UtcNow,
        LastUsedAt = DateTimeOffset.UtcNow,
        Platform = "linux/amd64",
        Defaults = new RunDefaults { WorkingDir = "/src", Env = ["A=1"] },
    };
}
