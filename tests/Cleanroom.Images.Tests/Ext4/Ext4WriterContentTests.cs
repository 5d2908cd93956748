using System.Text;
using Cleanroom.Images.Ext4;
using Cleanroom.TestSupport;

namespace Cleanroom.Images.Tests.Ext4;

/// <summary>
/// Images written by <see cref="Ext4ImageWriter"/> are what e2fsck calls clean and what the kernel mounts and reads back
/// byte for byte, with the modes, owners, times, links and names that were written.
/// </summary>
public sealed class Ext4WriterContentTests
{
    private const long Time = 1_700_000_000;

    [Ext4MountFact]
    public async Task A_varied_tree_is_clean_and_mounts_with_everything_that_was_written()
    {
        using var scratch = new Ext4ScratchImage();
        var options = new Ext4ImageOptions(256L << 20, 8192) { Label = "cleanroom", TimestampSeconds = Time, Uuid = Guid.Parse("0b7c5d52-6a51-4f33-9a7d-7f1f2bb01d11") };
        ExpectedTree tree;
        using (var writer = scratch.Create(options))
        {
            tree = new ExpectedTree(writer);
            tree.SetRoot(new Ext4Metadata(0x1ED, 1000, 1000, Time + 1));
            tree.File(Ext4ImageWriter.RootInode, "small.txt", new Ext4Metadata(0x1A4, 1000, 1000, Time), "hello ext4\n"u8.ToArray());
            tree.File(Ext4ImageWriter.RootInode, "odd.bin", new Ext4Metadata(0x1A4, 0, 0, Time), DeterministicContentStream.Bytes((3 * 4096) + 123, 1));
            tree.File(Ext4ImageWriter.RootInode, "empty", new Ext4Metadata(0x1A4, 0, 0, Time), []);
            tree.File(Ext4ImageWriter.RootInode, "exec.sh", new Ext4Metadata(0x1ED, 0, 0, Time), "#!/bin/sh\necho hi\n"u8.ToArray());
            tree.File(Ext4ImageWriter.RootInode, "suid", new Ext4Metadata(0x9ED, 0, 0, Time), "x"u8.ToArray()); // 04755
            await tree.StreamedFile(Ext4ImageWriter.RootInode, "big.bin", new Ext4Metadata(0x1A4, 0, 0, Time - 5), (5L << 20) + 7, 2);
            await tree.StreamedFile(Ext4ImageWriter.RootInode, "block.bin", new Ext4Metadata(0x1A4, 0, 0, Time), 8192, 3);
            await tree.StreamedFile(Ext4ImageWriter.RootInode, "empty-streamed", new Ext4Metadata(0x1A4, 0, 0, Time), 0, 4);
            tree.File(Ext4ImageWriter.RootInode, "big-ids", new Ext4Metadata(0x180, 100_000, 200_000, Time), "ids"u8.ToArray());
            tree.File(Ext4ImageWriter.RootInode, "after-2038", new Ext4Metadata(0x1A4, 0, 0, 3_000_000_000), "later"u8.ToArray());
            tree.File(Ext4ImageWriter.RootInode, [0x63, 0x61, 0x66, 0xE9, 0xFF], new Ext4Metadata(0x1A4, 0, 0, Time), "latin-1 name"u8.ToArray());
            tree.Symlink(Ext4ImageWriter.RootInode, "fast-link", "small.txt"u8.ToArray(), new Ext4Metadata(0x1FF, 0, 0, Time));
            tree.Symlink(Ext4ImageWriter.RootInode, "link-59", Encoding.ASCII.GetBytes(new string('a', 59)), new Ext4Metadata(0x1FF, 0, 0, Time));
            tree.Symlink(Ext4ImageWriter.RootInode, "link-60", Encoding.ASCII.GetBytes(new string('b', 60)), new Ext4Metadata(0x1FF, 0, 0, Time));
            tree.Symlink(Ext4ImageWriter.RootInode, "long-link", Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("some/long/path/", 200)) + "end"), new Ext4Metadata(0x1FF, 0, 0, Time));
            tree.Directory(Ext4ImageWriter.RootInode, "sticky", new Ext4Metadata(0x3FF, 0, 0, Time)); // 01777
            var setgid = tree.Directory(Ext4ImageWriter.RootInode, "setgid", new Ext4Metadata(0x5ED, 0, 50, Time)); // 02755
            tree.File(setgid, "inside", new Ext4Metadata(0x1A4, 0, 50, Time), "in"u8.ToArray());

            var many = tree.Directory(Ext4ImageWriter.RootInode, "many", new Ext4Metadata(0x1ED, 0, 0, Time));
            for (var i = 0; i < 5000; i++)
            {
                var name = $"file-{i:D5}" + new string('x', i % 40);
                tree.File(many, name, new Ext4Metadata(0x1A4, 0, 0, Time + i), Encoding.ASCII.GetBytes($"{i}\n"));
            }

            var deep = Ext4ImageWriter.RootInode;
            for (var depth = 0; depth < 50; depth++)
            {
                deep = tree.Directory(deep, $"d{depth}", new Ext4Metadata(0x1ED, 0, 0, Time));
            }

            tree.File(deep, "bottom", new Ext4Metadata(0x1A4, 0, 0, Time), "deep\n"u8.ToArray());
            writer.Complete();
        }

        Assert.True(File.Exists(scratch.Image));
        Ext4Tools.AssertClean(scratch.Image);
        var superblock = Encoding.UTF8.GetString(Ext4Tools.RunChecked("dumpe2fs", "-h", scratch.Image));
        Assert.Contains("Filesystem features:      filetype extent flex_bg sparse_super large_file dir_nlink extra_isize", superblock, StringComparison.Ordinal);
        Assert.Contains("Filesystem volume name:   cleanroom", superblock, StringComparison.Ordinal);
        Assert.Contains("Filesystem UUID:          0b7c5d52-6a51-4f33-9a7d-7f1f2bb01d11", superblock, StringComparison.Ordinal);
        using var mount = scratch.Mount();
        tree.AssertMatches(mount.Path, lostAndFound: true);
        var lostAndFound = new DirectoryInfo(Path.Combine(mount.Path, "lost+found"));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, lostAndFound.UnixFileMode);
    }

    [Fact]
    public void Without_lost_and_found_e2fsck_at_most_misses_lost_and_found()
    {
        using var scratch = new Ext4ScratchImage();
        using (var writer = scratch.Create(new Ext4ImageOptions(64L << 20, 1024) { LostAndFound = false }))
        {
            var directory = writer.AddDirectory(Ext4ImageWriter.RootInode, "src"u8, new Ext4Metadata(0x1ED, 0, 0, Time));
            writer.AddFile(directory, "main.c"u8, new Ext4Metadata(0x1A4, 0, 0, Time), "int main(void) { return 0; }\n"u8);
            writer.Complete();
        }

        // e2fsck 1.47 only asks for lost+found when it has something to put there; older ones complain about it alone.
        var (exitCode, problems, output) = Ext4Tools.Fsck(scratch.Image);
        Assert.True(problems.Count == 0 ? exitCode == 0 : problems.SequenceEqual(["/lost+found not found.  Create? no"]), output);
    }

    [Fact]
    public void An_empty_image_is_clean()
    {
        using var scratch = new Ext4ScratchImage();
        using (var writer = scratch.Create(new Ext4ImageOptions(1L << 20, 16)))
        {
            writer.Complete();
        }

        Ext4Tools.AssertClean(scratch.Image);
        Assert.Equal(32768L * 4096, new FileInfo(scratch.Image).Length);
    }
}
