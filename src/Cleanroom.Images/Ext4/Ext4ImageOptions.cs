namespace Cleanroom.Images.Ext4;

/// <summary>
/// The shape of an ext4 image written by <see cref="Ext4ImageWriter"/>. <paramref name="CapacityBytes"/> is rounded up to
/// whole block groups (the image file is sparse, so only its apparent size grows); <paramref name="InodeCount"/> is a
/// lower bound on the inodes the image holds (rounded up to whole inode-table blocks per group).
/// </summary>
/// <param name="CapacityBytes">Size of the file system; every block the caller's files use comes out of it.</param>
/// <param name="InodeCount">Inodes to provide, including the ten reserved ones, the root and lost+found.</param>
public sealed record Ext4ImageOptions(long CapacityBytes, long InodeCount)
{
    /// <summary>The volume label, at most 16 bytes of UTF-8.</summary>
    public string Label { get; init; } = "";

    /// <summary>Whether to create <c>/lost+found</c> (inode 11, mode 0700) as mke2fs does; e2fsck complains without it.</summary>
    public bool LostAndFound { get; init; } = true;

    /// <summary>Creation/write time of the superblock and the times of the root and lost+found (Unix seconds).</summary>
    public long TimestampSeconds { get; init; }

    /// <summary>The file system UUID; a random one when not given.</summary>
    public Guid? Uuid { get; init; }

    /// <summary>Blocks per group (a multiple of 8, 256..32768). Tests shrink it to cross groups and backups cheaply.</summary>
    internal int BlocksPerGroup { get; init; } = 32768;

    /// <summary>Longest extent in blocks (1..32768). Tests shrink it to force many extents and depth-1 extent trees.</summary>
    internal int MaxExtentBlocks { get; init; } = 32768;
}
