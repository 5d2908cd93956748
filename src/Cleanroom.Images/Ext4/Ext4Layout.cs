namespace Cleanroom.Images.Ext4;

/// <summary>
/// The geometry of an image: block groups, inodes per group, where the superblock copies and group descriptor tables
/// sit, and (once <see cref="PlaceMetadata"/> ran) where each group's bitmaps and inode table are. Everything is derived
/// from the options and validated here, so a writer never starts on an image the kernel would refuse.
/// </summary>
internal sealed class Ext4Layout
{
    public const int BlockSize = 4096;
    public const int InodeSize = 256;
    public const int InodesPerBlock = BlockSize / InodeSize;
    public const int DescriptorSize = 32;

    /// <summary>Bits in one bitmap block: the most blocks or inodes a group can have.</summary>
    public const int BitsPerBlock = BlockSize * 8;

    private Ext4Layout(int blocksPerGroup, int groupCount, int inodesPerGroup)
    {
        BlocksPerGroup = blocksPerGroup;
        GroupCount = groupCount;
        InodesPerGroup = inodesPerGroup;
        InodeTableBlocks = inodesPerGroup / InodesPerBlock;
        BlockCount = (long)groupCount * blocksPerGroup;
        InodeCount = (uint)((long)groupCount * inodesPerGroup);
        DescriptorBlocks = (int)(((long)groupCount * DescriptorSize + BlockSize - 1) / BlockSize);
        BlockBitmaps = new long[groupCount];
        InodeBitmaps = new long[groupCount];
        InodeTables = new long[groupCount];
        var reserved = new List<BlockRange>();
        for (var group = 0; group < groupCount; group++)
        {
            if (HasSuperblock(group))
            {
                reserved.Add(new BlockRange((long)group * blocksPerGroup, 1 + DescriptorBlocks));
            }
        }

        Reserved = reserved;
    }

    public int BlocksPerGroup { get; }

    public int GroupCount { get; }

    public int InodesPerGroup { get; }

    /// <summary>Blocks of one group's inode table.</summary>
    public int InodeTableBlocks { get; }

    public long BlockCount { get; }

    public uint InodeCount { get; }

    /// <summary>Blocks of the group descriptor table (no reserved GDT blocks: the image is never resized).</summary>
    public int DescriptorBlocks { get; }

    public long[] BlockBitmaps { get; }

    public long[] InodeBitmaps { get; }

    public long[] InodeTables { get; }

    /// <summary>Superblock + descriptor table of group 0 and of each backup group, in block order.</summary>
    public IReadOnlyList<BlockRange> Reserved { get; }

    /// <summary>Validates the options and derives the geometry; <see cref="ArgumentException"/> when they cannot work.</summary>
    public static Ext4Layout Compute(Ext4ImageOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var blocksPerGroup = options.BlocksPerGroup;
        if (blocksPerGroup < 256 || blocksPerGroup > BitsPerBlock || blocksPerGroup % 8 != 0)
        {
            throw new ArgumentException($"BlocksPerGroup {blocksPerGroup} must be a multiple of 8 between 256 and {BitsPerBlock}.", nameof(options));
        }

        if (options.MaxExtentBlocks is < 1 or > 32768)
        {
            throw new ArgumentException($"MaxExtentBlocks {options.MaxExtentBlocks} must be between 1 and 32768.", nameof(options));
        }

        if (options.CapacityBytes <= 0)
        {
            throw new ArgumentException($"CapacityBytes {options.CapacityBytes} must be positive.", nameof(options));
        }

        if (options.InodeCount <= 0)
        {
            throw new ArgumentException($"InodeCount {options.InodeCount} must be positive.", nameof(options));
        }

        // Without the 64bit feature block numbers are 32 bits; keep the last group inside that range.
        var requestedBlocks = (options.CapacityBytes + BlockSize - 1) / BlockSize;
        var groups = (requestedBlocks + blocksPerGroup - 1) / blocksPerGroup;
        if (groups * blocksPerGroup > uint.MaxValue)
        {
            throw new ArgumentException($"CapacityBytes {options.CapacityBytes} is more than an ext4 image without the 64bit feature holds (16 TiB).", nameof(options));
        }

        var perGroup = (options.InodeCount + groups - 1) / groups;
        var inodesPerGroup = Math.Max(InodesPerBlock, (perGroup + InodesPerBlock - 1) / InodesPerBlock * InodesPerBlock);
        if (inodesPerGroup > BitsPerBlock)
        {
            throw new ArgumentException(
                $"InodeCount {options.InodeCount} needs {inodesPerGroup} inodes in each of the {groups} block groups of a {options.CapacityBytes}-byte image; a group holds at most {BitsPerBlock}. Raise CapacityBytes or lower InodeCount.",
                nameof(options));
        }

        if (groups * inodesPerGroup > uint.MaxValue)
        {
            throw new ArgumentException($"InodeCount {options.InodeCount} is more than ext4 holds (2^32 - 1).", nameof(options));
        }

        var layout = new Ext4Layout(blocksPerGroup, (int)groups, (int)inodesPerGroup);
        if (1 + layout.DescriptorBlocks >= blocksPerGroup)
        {
            throw new ArgumentException($"{groups} block groups need a descriptor table larger than a group of {blocksPerGroup} blocks.", nameof(options));
        }

        return layout;
    }

    /// <summary>With sparse_super, groups 0, 1 and the powers of 3, 5 and 7 carry a superblock and descriptor copy.</summary>
    public static bool HasSuperblock(int group) =>
        group <= 1 || IsPowerOf(group, 3) || IsPowerOf(group, 5) || IsPowerOf(group, 7);

    /// <summary>
    /// Places every group's block bitmap, inode bitmap and inode table, packed after group 0's descriptor table
    /// (flex_bg allows metadata anywhere), through <paramref name="allocator"/> so backup ranges are skipped.
    /// </summary>
    public void PlaceMetadata(BlockAllocator allocator, long capacityBytes)
    {
        ArgumentNullException.ThrowIfNull(allocator);
        for (var group = 0; group < GroupCount; group++)
        {
            BlockBitmaps[group] = Place(allocator, 1, capacityBytes);
        }

        for (var group = 0; group < GroupCount; group++)
        {
            InodeBitmaps[group] = Place(allocator, 1, capacityBytes);
        }

        for (var group = 0; group < GroupCount; group++)
        {
            InodeTables[group] = Place(allocator, InodeTableBlocks, capacityBytes);
        }
    }

    /// <summary>The byte offset of inode <paramref name="inode"/> (1-based) in the image.</summary>
    public long InodeOffset(uint inode)
    {
        var index = inode - 1;
        var group = (int)(index / (uint)InodesPerGroup);
        return InodeTables[group] * BlockSize + (long)(index % (uint)InodesPerGroup) * InodeSize;
    }

    private long Place(BlockAllocator allocator, int blocks, long capacityBytes)
    {
        var start = allocator.AllocateContiguous(blocks);
        if (start < 0)
        {
            throw new ArgumentException(
                $"A {capacityBytes}-byte image has no room for the bitmaps and inode tables of {InodeCount} inodes ({(long)GroupCount * InodeTableBlocks * BlockSize} bytes of inode tables). Raise CapacityBytes or lower InodeCount.",
                nameof(capacityBytes));
        }

        return start;
    }

    private static bool IsPowerOf(int value, int radix)
    {
        long power = radix;
        while (power < value)
        {
            power *= radix;
        }

        return power == value;
    }
}
