using System.Text;
using Cleanroom.Images.Ext4;

namespace Cleanroom.Images.Tests.Ext4;

/// <summary>
/// Shrunk geometry (1,024-block groups, 4-block extents) makes small images cross many groups and backup superblocks,
/// and gives files and directories depth-1 extent trees with one or several leaf blocks.
/// </summary>
public sealed class Ext4GeometryTests
{
    private const long Time = 1_600_000_000;

    [Ext4MountFact]
    public async Task Files_across_groups_and_backups_with_deep_extent_trees_read_back_exactly()
    {
        using var scratch = new Ext4ScratchImage();
        var options = new Ext4ImageOptions(48L << 20, 4096) { BlocksPerGroup = 1024, MaxExtentBlocks = 4, TimestampSeconds = Time };
        ExpectedTree tree;
        using (var writer = scratch.Create(options))
        {
            tree = new ExpectedTree(writer);
            var metadata = new Ext4Metadata(0x1A4, 0, 0, Time);
            // 5 extents: just past what i_block holds, so one leaf block.
            await tree.StreamedFile(Ext4ImageWriter.RootInode, "five-extents", metadata, (20 * 4096) - 100, 10);
            // 6 MiB = 1,536 blocks = 384+ extents: two leaf blocks, crossing group 1's backup and several groups.
            await tree.StreamedFile(Ext4ImageWriter.RootInode, "two-leaves", metadata, 6L << 20, 11);
            for (var i = 0; i < 8; i++)
            {
                // 3 MiB each, up to ~30 MiB in all: past the backups in groups 3, 5 and 7.
                await tree.StreamedFile(Ext4ImageWriter.RootInode, $"chunk-{i}", metadata, (3L << 20) + (i * 777), 20 + i);
            }

            // A directory of ~30 blocks needs 8 extents, so directories get depth-1 trees too.
            var wide = tree.Directory(Ext4ImageWriter.RootInode, "wide", new Ext4Metadata(0x1ED, 0, 0, Time));
            for (var i = 0; i < 1000; i++)
            {
                tree.File(wide, $"{i:D4}-" + new string('n', 100), metadata, Encoding.ASCII.GetBytes($"{i}"));
            }

            tree.Symlink(wide, "long-link", Encoding.ASCII.GetBytes(new string('t', 3000)), new Ext4Metadata(0x1FF, 0, 0, Time));
            writer.Complete();
        }

        Ext4Tools.AssertClean(scratch.Image);
        var groups = Encoding.UTF8.GetString(Ext4Tools.RunChecked("dumpe2fs", scratch.Image));
        Assert.Contains("Backup superblock at 7168", groups, StringComparison.Ordinal);
        var stat = Encoding.UTF8.GetString(Ext4Tools.RunChecked("debugfs", "-R", "stat /two-leaves", scratch.Image));
        // Two leaf blocks, and the data steps over group 1's superblock and descriptor copy (blocks 1024-1025).
        Assert.Equal(2, stat.Split("(ETB0)").Length - 1);
        Assert.Contains(":1023, ", stat, StringComparison.Ordinal);
        Assert.Contains(":1026-", stat, StringComparison.Ordinal);
        var wideStat = Encoding.UTF8.GetString(Ext4Tools.RunChecked("debugfs", "-R", "stat /wide", scratch.Image));
        Assert.Contains("(ETB0)", wideStat, StringComparison.Ordinal);
        using var mount = scratch.Mount();
        tree.AssertMatches(mount.Path, lostAndFound: true);
    }

    [Ext4MountFact]
    public void Inode_tables_that_meet_a_backup_and_inodes_in_several_groups_work()
    {
        using var scratch = new Ext4ScratchImage();
        // 8 groups of 2,048 inodes: 8 x 128 inode-table blocks after 16 bitmap blocks run into group 1's backup at 1024.
        var options = new Ext4ImageOptions(32L << 20, 8 * 2048) { BlocksPerGroup = 1024, TimestampSeconds = Time };
        ExpectedTree tree;
        using (var writer = scratch.Create(options))
        {
            tree = new ExpectedTree(writer);
            var directory = Ext4ImageWriter.RootInode;
            for (var i = 0; i < 5000; i++)
            {
                // A new directory every 700 entries, so directory inodes sit between file inodes in several groups.
                if (i % 700 == 0)
                {
                    directory = tree.Directory(Ext4ImageWriter.RootInode, $"part{i / 700}", new Ext4Metadata(0x1ED, 0, 0, Time));
                }

                tree.File(directory, $"f{i}", new Ext4Metadata(0x1A4, (uint)i, 0, Time), i % 3 == 0 ? [] : Encoding.ASCII.GetBytes($"{i}"));
            }

            writer.Complete();
        }

        Ext4Tools.AssertClean(scratch.Image);
        var groups = Encoding.UTF8.GetString(Ext4Tools.RunChecked("dumpe2fs", scratch.Image));
        Assert.Contains("Inode table at 1026-1153", groups, StringComparison.Ordinal);
        Assert.Contains("2048 free inodes", groups, StringComparison.Ordinal); // the last group is untouched
        using var mount = scratch.Mount();
        tree.AssertMatches(mount.Path, lostAndFound: true);
    }

    [Ext4MountFact]
    public void A_directory_with_more_than_65000_subdirectories_has_one_link()
    {
        using var scratch = new Ext4ScratchImage();
        using (var writer = scratch.Create(new Ext4ImageOptions(512L << 20, 65_100) { LostAndFound = false }))
        {
            var parent = writer.AddDirectory(Ext4ImageWriter.RootInode, "wide"u8, new Ext4Metadata(0x1ED, 0, 0, Time));
            for (var i = 0; i < 65_001; i++)
            {
                writer.AddDirectory(parent, Encoding.ASCII.GetBytes($"{i}"), new Ext4Metadata(0x1ED, 0, 0, Time));
            }

            writer.Complete();
        }

        var (exitCode, problems, output) = Ext4Tools.Fsck(scratch.Image);
        Assert.True(exitCode == 0 && problems.Count == 0, output);
        using var mount = scratch.Mount();
        var links = Encoding.ASCII.GetString(Ext4Tools.RunChecked("stat", "-c", "%h", Path.Combine(mount.Path, "wide"))).Trim();
        Assert.Equal("1", links);
        Assert.Equal("2", Encoding.ASCII.GetString(Ext4Tools.RunChecked("stat", "-c", "%h", Path.Combine(mount.Path, "wide", "64999"))).Trim());
    }

    [Fact]
    public void The_same_entries_with_the_same_uuid_and_time_give_the_same_image()
    {
        using var scratch = new Ext4ScratchImage();
        var options = new Ext4ImageOptions(8L << 20, 256) { BlocksPerGroup = 1024, TimestampSeconds = Time, Uuid = Guid.Parse("5d2b4c3e-3f6a-4e6b-8a8f-2f0e5a1c9b77") };
        var images = new[] { Path.Combine(scratch.Directory, "a.img"), Path.Combine(scratch.Directory, "b.img") };
        foreach (var image in images)
        {
            using var writer = Ext4ImageWriter.Create(image, options);
            var directory = writer.AddDirectory(Ext4ImageWriter.RootInode, "d"u8, new Ext4Metadata(0x1ED, 0, 0, Time));
            writer.AddFile(directory, "f"u8, new Ext4Metadata(0x1A4, 0, 0, Time), new byte[10_000]);
            writer.AddSymlink(directory, "l"u8, "f"u8, new Ext4Metadata(0x1FF, 0, 0, Time));
            writer.Complete();
        }

        Assert.True(File.ReadAllBytes(images[0]).AsSpan().SequenceEqual(File.ReadAllBytes(images[1])));
    }

    [Fact]
    public void A_file_that_needs_more_than_a_depth_one_tree_is_refused()
    {
        using var scratch = new Ext4ScratchImage();
        // 1,361 one-block extents are one more than four leaves of 340 hold.
        using var writer = scratch.Create(new Ext4ImageOptions(64L << 20, 64) { BlocksPerGroup = 1024, MaxExtentBlocks = 1 });
        var error = Assert.Throws<ArgumentException>(() => writer.AddFile(Ext4ImageWriter.RootInode, "huge"u8, new Ext4Metadata(0x1A4, 0, 0, 0), new byte[1361 * 4096]));
        Assert.Contains("1361 extents", error.Message, StringComparison.Ordinal);
        // Refused before anything was allocated: the image is still usable.
        writer.AddFile(Ext4ImageWriter.RootInode, "fits"u8, new Ext4Metadata(0x1A4, 0, 0, 0), new byte[1360 * 4096]);
        writer.Complete();
        writer.Dispose();
        Ext4Tools.AssertClean(scratch.Image);
    }
}
