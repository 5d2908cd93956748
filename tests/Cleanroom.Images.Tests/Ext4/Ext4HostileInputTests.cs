using Cleanroom.Images.Ext4;
using Cleanroom.TestSupport;

namespace Cleanroom.Images.Tests.Ext4;

/// <summary>
/// What a hostile repository can hand the writer: bad names, duplicates, unknown parents, short streams, too many
/// files or bytes. Each is refused with a clear exception, and a failed image never stays on disk.
/// </summary>
public sealed class Ext4HostileInputTests
{
    private static readonly Ext4Metadata File644 = new(0x1A4, 0, 0, 0);

    public static TheoryData<byte[]> BadNames() => new()
    {
        "a/b"u8.ToArray(),
        "/"u8.ToArray(),
        "a\0b"u8.ToArray(),
        "."u8.ToArray(),
        ".."u8.ToArray(),
        Array.Empty<byte>(),
        Enumerable.Repeat((byte)'n', 256).ToArray(),
    };

    [Theory]
    [MemberData(nameof(BadNames))]
    public async Task Bad_names_are_refused_for_every_kind_of_entry(byte[] name)
    {
        using var scratch = new Ext4ScratchImage();
        using var writer = scratch.Create(new Ext4ImageOptions(16L << 20, 64));
        Assert.Throws<ArgumentException>(() => writer.AddFile(Ext4ImageWriter.RootInode, name, File644, "x"u8));
        Assert.Throws<ArgumentException>(() => writer.AddDirectory(Ext4ImageWriter.RootInode, name, File644));
        Assert.Throws<ArgumentException>(() => writer.AddSymlink(Ext4ImageWriter.RootInode, name, "t"u8, File644));
        await Assert.ThrowsAsync<ArgumentException>(() => writer.AddFileAsync(Ext4ImageWriter.RootInode, name, File644, new MemoryStream([1]), 1, CancellationToken.None));
        // Refused before anything changed: the image is still whole.
        writer.AddFile(Ext4ImageWriter.RootInode, Enumerable.Repeat((byte)'n', 255).ToArray(), File644, "x"u8);
        writer.Complete();
        writer.Dispose();
        Ext4Tools.AssertClean(scratch.Image);
    }

    [Fact]
    public void Duplicates_unknown_parents_bad_modes_and_bad_targets_are_refused()
    {
        using var scratch = new Ext4ScratchImage();
        using var writer = scratch.Create(new Ext4ImageOptions(16L << 20, 64));
        var directory = writer.AddDirectory(Ext4ImageWriter.RootInode, "dir"u8, new Ext4Metadata(0x1ED, 0, 0, 0));
        writer.AddFile(directory, "a"u8, File644, "1"u8);
        var duplicate = Assert.Throws<ArgumentException>(() => writer.AddSymlink(directory, "a"u8, "b"u8, File644));
        Assert.Contains("already exists", duplicate.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => writer.AddDirectory(Ext4ImageWriter.RootInode, "dir"u8, File644));
        Assert.Throws<ArgumentException>(() => writer.AddFile(Ext4ImageWriter.RootInode, "lost+found"u8, File644, ""u8));
        // The same name in another directory is fine.
        writer.AddFile(Ext4ImageWriter.RootInode, "a"u8, File644, "2"u8);

        var unknown = Assert.Throws<ArgumentException>(() => writer.AddFile(999, "x"u8, File644, ""u8));
        Assert.Contains("not a directory", unknown.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => writer.AddFile(0, "x"u8, File644, ""u8));
        Assert.Throws<ArgumentException>(() => writer.AddFile(directory + 1, "x"u8, File644, ""u8)); // a file, not a directory
        Assert.Throws<ArgumentException>(() => writer.AddFile(1, "x"u8, File644, ""u8)); // reserved inode

        Assert.Throws<ArgumentException>(() => writer.AddFile(directory, "m"u8, new Ext4Metadata(0x8000 | 0x1A4, 0, 0, 0), ""u8));
        Assert.Throws<ArgumentException>(() => writer.AddDirectory(directory, "m"u8, new Ext4Metadata(0x1000, 0, 0, 0)));
        Assert.Throws<ArgumentException>(() => writer.SetRootMetadata(new Ext4Metadata(0x4000 | 0x1ED, 0, 0, 0)));

        Assert.Throws<ArgumentException>(() => writer.AddSymlink(directory, "l"u8, ""u8, File644));
        Assert.Throws<ArgumentException>(() => writer.AddSymlink(directory, "l"u8, new byte[4096], File644));
        Assert.Throws<ArgumentException>(() => writer.AddSymlink(directory, "l"u8, "a\0b"u8, File644));
        writer.AddSymlink(directory, "l"u8, Enumerable.Repeat((byte)'t', 4095).ToArray(), new Ext4Metadata(0x1FF, 0, 0, 0));

        writer.Complete();
        writer.Dispose();
        Ext4Tools.AssertClean(scratch.Image);
    }

    [Fact]
    public async Task A_stream_shorter_than_announced_fails_and_the_image_is_deleted()
    {
        using var scratch = new Ext4ScratchImage();
        var writer = scratch.Create(new Ext4ImageOptions(16L << 20, 64));
        try
        {
            await writer.AddFileAsync(Ext4ImageWriter.RootInode, "ok"u8.ToArray(), File644, new MemoryStream(new byte[10]), 10, CancellationToken.None);
            var error = await Assert.ThrowsAsync<EndOfStreamException>(
                () => writer.AddFileAsync(Ext4ImageWriter.RootInode, "short"u8.ToArray(), File644, new DeterministicContentStream(5000, 1), 10_000, CancellationToken.None));
            Assert.Contains("ended after 5000 bytes", error.Message, StringComparison.Ordinal);
            // The image is broken from here on.
            Assert.Throws<InvalidOperationException>(() => writer.AddFile(Ext4ImageWriter.RootInode, "more"u8, File644, ""u8));
            Assert.Throws<InvalidOperationException>(writer.Complete);
            Assert.True(File.Exists(scratch.Image));
        }
        finally
        {
            writer.Dispose();
        }

        Assert.False(File.Exists(scratch.Image));
    }

    [Fact]
    public async Task Exactly_the_announced_length_is_read_from_a_shared_stream()
    {
        using var scratch = new Ext4ScratchImage();
        // Two objects back to back, as git cat-file --batch delivers them.
        var first = DeterministicContentStream.Bytes(5000, 1);
        var second = DeterministicContentStream.Bytes(70_000, 2);
        using var stream = new MemoryStream([.. first, .. "\n"u8, .. second]);
        using (var writer = scratch.Create(new Ext4ImageOptions(16L << 20, 64)))
        {
            await writer.AddFileAsync(Ext4ImageWriter.RootInode, "first"u8.ToArray(), File644, stream, first.Length, CancellationToken.None);
            Assert.Equal(first.Length, stream.Position);
            Assert.Equal('\n', stream.ReadByte());
            await writer.AddFileAsync(Ext4ImageWriter.RootInode, "second"u8.ToArray(), File644, stream, second.Length, CancellationToken.None);
            Assert.Equal(stream.Length, stream.Position);
            writer.Complete();
        }

        Ext4Tools.AssertClean(scratch.Image);
        Assert.Equal(second, Ext4Tools.RunChecked("debugfs", "-R", "cat /second", scratch.Image));
    }

    [Fact]
    public void Running_out_of_inodes_says_so_and_the_image_is_deleted()
    {
        using var scratch = new Ext4ScratchImage();
        // One group of 16 inodes: 1-10 reserved, 11 lost+found, so five files fit.
        var writer = scratch.Create(new Ext4ImageOptions(16L << 20, 16));
        try
        {
            for (var i = 0; i < 5; i++)
            {
                writer.AddFile(Ext4ImageWriter.RootInode, [(byte)('a' + i)], File644, "x"u8);
            }

            var full = Assert.Throws<Ext4ImageFullException>(() => writer.AddFile(Ext4ImageWriter.RootInode, "f"u8, File644, "x"u8));
            Assert.Equal(Ext4Resource.Inodes, full.Resource);
            Assert.Contains("out of inodes", full.Message, StringComparison.Ordinal);
            Assert.Contains("16", full.Message, StringComparison.Ordinal);
            Assert.Throws<Ext4ImageFullException>(() => writer.AddDirectory(Ext4ImageWriter.RootInode, "x"u8, File644));
            Assert.Throws<Ext4ImageFullException>(() => writer.AddSymlink(Ext4ImageWriter.RootInode, "y"u8, "t"u8, File644));
        }
        finally
        {
            writer.Dispose();
        }

        Assert.False(File.Exists(scratch.Image));
    }

    [Fact]
    public async Task Running_out_of_blocks_says_so_and_the_image_is_deleted()
    {
        using var scratch = new Ext4ScratchImage();
        // One group of 1,024 blocks (4 MiB); the stream would go on for 8 MiB.
        var writer = scratch.Create(new Ext4ImageOptions(4L << 20, 64) { BlocksPerGroup = 1024 });
        try
        {
            using var content = new DeterministicContentStream(8L << 20, 3);
            var full = await Assert.ThrowsAsync<Ext4ImageFullException>(
                () => writer.AddFileAsync(Ext4ImageWriter.RootInode, "big"u8.ToArray(), File644, content, content.Length, CancellationToken.None));
            Assert.Equal(Ext4Resource.Blocks, full.Resource);
            Assert.Contains("out of blocks", full.Message, StringComparison.Ordinal);
            Assert.Contains("2048 more blocks", full.Message, StringComparison.Ordinal);
            Assert.Equal(0, content.Position); // refused before reading

            // Fill it with smaller files until it is full: the last one is refused, never half-written.
            var added = 0;
            void FillUp()
            {
                while (true)
                {
                    writer.AddFile(Ext4ImageWriter.RootInode, System.Text.Encoding.ASCII.GetBytes($"f{added}"), File644, new byte[100_000]);
                    added++;
                }
            }

            Assert.Throws<Ext4ImageFullException>(FillUp);
            Assert.InRange(added, 30, 40);
        }
        finally
        {
            writer.Dispose();
        }

        Assert.False(File.Exists(scratch.Image));
    }

    [Fact]
    public void Options_that_cannot_make_an_image_are_refused_without_leaving_a_file()
    {
        using var scratch = new Ext4ScratchImage();
        Assert.Throws<ArgumentException>(() => scratch.Create(new Ext4ImageOptions(0, 64)));
        Assert.Throws<ArgumentException>(() => scratch.Create(new Ext4ImageOptions(1 << 20, 0)));
        Assert.Throws<ArgumentException>(() => scratch.Create(new Ext4ImageOptions(1 << 20, 64) { Label = new string('l', 17) }));
        Assert.Throws<ArgumentException>(() => scratch.Create(new Ext4ImageOptions(17L << 40, 64)));
        Assert.Throws<ArgumentException>(() => scratch.Create(new Ext4ImageOptions(4L << 20, 40_000) { BlocksPerGroup = 1024 }));
        // Found only once the file exists (the inode tables do not fit): the file is removed again.
        var tooManyInodes = Assert.Throws<ArgumentException>(() => scratch.Create(new Ext4ImageOptions(4L << 20, 30_000) { BlocksPerGroup = 1024 }));
        Assert.Contains("inode tables", tooManyInodes.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => scratch.Create(new Ext4ImageOptions(4L << 20, 64) { BlocksPerGroup = 1001 }));
        Assert.Throws<ArgumentException>(() => scratch.Create(new Ext4ImageOptions(4L << 20, 64) { MaxExtentBlocks = 40000 }));
        Assert.False(File.Exists(scratch.Image));
    }
}
