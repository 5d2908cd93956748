using System.Buffers.Binary;
using System.Text;

namespace Cleanroom.Images.Ext4;

/// <summary>
/// Encodes the superblock and the 32-byte group descriptors. Features: filetype, extents, flex_bg; sparse_super,
/// large_file, dir_nlink, extra_isize. No journal, no resize inode, no htree, no checksums: the image is written once
/// and mounted read-only.
/// </summary>
internal static class SuperblockEncoder
{
    public const int Size = 1024;
    public const int Offset = 1024;

    private const uint IncompatFiletype = 0x2;
    private const uint IncompatExtents = 0x40;
    private const uint IncompatFlexBg = 0x200;
    private const uint RoCompatSparseSuper = 0x1;
    private const uint RoCompatLargeFile = 0x2;
    private const uint RoCompatDirNlink = 0x20;
    private const uint RoCompatExtraIsize = 0x40;
    private const byte LogGroupsPerFlex = 4;

    /// <summary>The numbers that differ between images beyond the layout.</summary>
    public readonly record struct Counts(long FreeBlocks, uint FreeInodes);

    /// <summary>Fills <paramref name="target"/> (1,024 bytes) with the superblock copy for <paramref name="group"/>.</summary>
    public static void Write(Span<byte> target, Ext4Layout layout, Ext4ImageOptions options, Guid uuid, Guid hashSeed, Counts counts, int group)
    {
        var sb = target[..Size];
        sb.Clear();
        var time = (uint)Math.Clamp(options.TimestampSeconds, 0, uint.MaxValue);
        BinaryPrimitives.WriteUInt32LittleEndian(sb[0x00..], layout.InodeCount);
        BinaryPrimitives.WriteUInt32LittleEndian(sb[0x04..], (uint)layout.BlockCount);
        BinaryPrimitives.WriteUInt32LittleEndian(sb[0x0C..], (uint)counts.FreeBlocks);
        BinaryPrimitives.WriteUInt32LittleEndian(sb[0x10..], counts.FreeInodes);
        BinaryPrimitives.WriteUInt32LittleEndian(sb[0x14..], 0); // first data block
        BinaryPrimitives.WriteUInt32LittleEndian(sb[0x18..], 2); // log2(4096) - 10
        BinaryPrimitives.WriteUInt32LittleEndian(sb[0x1C..], 2); // cluster size = block size
        BinaryPrimitives.WriteUInt32LittleEndian(sb[0x20..], (uint)layout.BlocksPerGroup);
        BinaryPrimitives.WriteUInt32LittleEndian(sb[0x24..], (uint)layout.BlocksPerGroup);
        BinaryPrimitives.WriteUInt32LittleEndian(sb[0x28..], (uint)layout.InodesPerGroup);
        BinaryPrimitives.WriteUInt32LittleEndian(sb[0x30..], time); // last write
        BinaryPrimitives.WriteUInt16LittleEndian(sb[0x36..], 0xFFFF); // max mount count: never forces a check
        BinaryPrimitives.WriteUInt16LittleEndian(sb[0x38..], 0xEF53);
        BinaryPrimitives.WriteUInt16LittleEndian(sb[0x3A..], 1); // clean
        BinaryPrimitives.WriteUInt16LittleEndian(sb[0x3C..], 1); // errors: continue
        BinaryPrimitives.WriteUInt32LittleEndian(sb[0x40..], time); // last check
        BinaryPrimitives.WriteUInt32LittleEndian(sb[0x4C..], 1); // dynamic revision
        BinaryPrimitives.WriteUInt32LittleEndian(sb[0x54..], 11); // first non-reserved inode
        BinaryPrimitives.WriteUInt16LittleEndian(sb[0x58..], Ext4Layout.InodeSize);
        BinaryPrimitives.WriteUInt16LittleEndian(sb[0x5A..], (ushort)group);
        BinaryPrimitives.WriteUInt32LittleEndian(sb[0x60..], IncompatFiletype | IncompatExtents | IncompatFlexBg);
        BinaryPrimitives.WriteUInt32LittleEndian(sb[0x64..], RoCompatSparseSuper | RoCompatLargeFile | RoCompatDirNlink | RoCompatExtraIsize);
        uuid.TryWriteBytes(sb[0x68..0x78], bigEndian: true, out _);
        Encoding.UTF8.GetBytes(options.Label, sb[0x78..0x88]);
        hashSeed.TryWriteBytes(sb[0xEC..0xFC], bigEndian: true, out _);
        sb[0xFC] = 1; // default hash: half_md4, as mke2fs (only used if dir_index is ever enabled)
        BinaryPrimitives.WriteUInt32LittleEndian(sb[0x108..], time); // mkfs time
        BinaryPrimitives.WriteUInt16LittleEndian(sb[0x15C..], InodeEncoder.ExtraSize); // min extra isize
        BinaryPrimitives.WriteUInt16LittleEndian(sb[0x15E..], InodeEncoder.ExtraSize); // want extra isize
        BinaryPrimitives.WriteUInt32LittleEndian(sb[0x160..], 1); // signed directory hash, as mke2fs on x86
        sb[0x174] = LogGroupsPerFlex;
    }

    /// <summary>Writes group <paramref name="group"/>'s descriptor into the descriptor table <paramref name="table"/>.</summary>
    public static void WriteDescriptor(Span<byte> table, Ext4Layout layout, int group, int freeBlocks, int freeInodes, int directories)
    {
        var descriptor = table.Slice(group * Ext4Layout.DescriptorSize, Ext4Layout.DescriptorSize);
        BinaryPrimitives.WriteUInt32LittleEndian(descriptor, (uint)layout.BlockBitmaps[group]);
        BinaryPrimitives.WriteUInt32LittleEndian(descriptor[0x04..], (uint)layout.InodeBitmaps[group]);
        BinaryPrimitives.WriteUInt32LittleEndian(descriptor[0x08..], (uint)layout.InodeTables[group]);
        BinaryPrimitives.WriteUInt16LittleEndian(descriptor[0x0C..], (ushort)freeBlocks);
        BinaryPrimitives.WriteUInt16LittleEndian(descriptor[0x0E..], (ushort)freeInodes);
        BinaryPrimitives.WriteUInt16LittleEndian(descriptor[0x10..], (ushort)directories);
    }
}
