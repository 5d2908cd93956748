using System.Security.Cryptography;
using Cleanroom.Images.Ext4;

namespace Cleanroom.Images.Tests.Ext4;

/// <summary>Files copied into the image by the kernel (a staged pack): byte-exact, from the same or another file system.</summary>
public sealed class Ext4FileCopyTests
{
    private static readonly Ext4Metadata File644 = new(0x1A4, 0, 0, 0);

    [Ext4MountFact]
    public void Copied_files_read_back_byte_for_byte_from_disk_and_from_tmpfs()
    {
        using var scratch = new Ext4ScratchImage();
        var content = new byte[(9 << 20) + 123];
        new Random(7).NextBytes(content);
        var onDisk = Path.Combine(scratch.Directory, "source.bin");
        File.WriteAllBytes(onDisk, content);
        var inMemory = Path.Combine("/dev/shm", $"cr-ext4-copy-{Guid.NewGuid():N}");
        File.WriteAllBytes(inMemory, content);
        try
        {
            // Small extents force several copy calls, each at its own place in the image.
            using (var writer = scratch.Create(new Ext4ImageOptions(64L << 20, 64) { MaxExtentBlocks = 256 }))
            {
                using (var source = File.OpenHandle(onDisk))
                {
                    writer.AddFileCopy(Ext4ImageWriter.RootInode, "disk.bin"u8, File644, source, content.Length);
                }

                using (var source = File.OpenHandle(inMemory))
                {
                    writer.AddFileCopy(Ext4ImageWriter.RootInode, "memory.bin"u8, File644, source, 1000);
                }

                writer.AddFile(Ext4ImageWriter.RootInode, "after.txt"u8, File644, "after\n"u8);
                writer.Complete();
            }

            Ext4Tools.AssertClean(scratch.Image);
            using var mount = scratch.Mount();
            Assert.Equal(SHA256.HashData(content), SHA256.HashData(File.ReadAllBytes(Path.Combine(mount.Path, "disk.bin"))));
            Assert.Equal(content.AsSpan(0, 1000).ToArray(), File.ReadAllBytes(Path.Combine(mount.Path, "memory.bin")));
            Assert.Equal("after\n", File.ReadAllText(Path.Combine(mount.Path, "after.txt")));
        }
        finally
        {
            File.Delete(inMemory);
        }
    }

    [Fact]
    public void A_source_shorter_than_announced_fails_and_leaves_no_image()
    {
        using var scratch = new Ext4ScratchImage();
        var source = Path.Combine(scratch.Directory, "short.bin");
        File.WriteAllBytes(source, new byte[5000]);
        using (var writer = scratch.Create(new Ext4ImageOptions(16L << 20, 64)))
        {
            using var handle = File.OpenHandle(source);
            Assert.Throws<EndOfStreamException>(() => writer.AddFileCopy(Ext4ImageWriter.RootInode, "pack"u8, File644, handle, 9000));
            Assert.ThrowsAny<InvalidOperationException>(() => writer.Complete());
        }

        Assert.False(File.Exists(scratch.Image));
    }
}
