using System.Buffers.Binary;

namespace Cleanroom.Images.Ext4;

/// <summary>
/// Encodes extent trees: depth 0 (up to four extents in the inode's i_block) or depth 1 (up to four index entries in
/// i_block, each pointing at a leaf block of up to 340 extents). Deeper trees are never needed: 1,360 extents of 32,768
/// blocks are 170 GiB.
/// </summary>
internal static class ExtentTree
{
    public const int RootSlots = 4;
    public const int LeafSlots = (Ext4Layout.BlockSize - EntrySize) / EntrySize;
    public const int MaxExtents = RootSlots * LeafSlots;

    private const int EntrySize = 12;
    private const ushort Magic = 0xF30A;

    /// <summary>Leaf blocks a file of <paramref name="extents"/> extents needs (0 when they fit in the inode).</summary>
    public static int LeafBlocksFor(long extents) => extents <= RootSlots ? 0 : (int)((extents + LeafSlots - 1) / LeafSlots);

    /// <summary>
    /// Writes the tree root into <paramref name="iblock"/> (60 bytes): the extents themselves, or index entries for
    /// <paramref name="leaves"/> whose contents <see cref="WriteLeaf"/> produces.
    /// </summary>
    public static void WriteRoot(Span<byte> iblock, IReadOnlyList<Extent> extents, IReadOnlyList<Extent> leaves)
    {
        iblock[..60].Clear();
        if (leaves.Count == 0)
        {
            WriteHeader(iblock, extents.Count, RootSlots, depth: 0);
            for (var i = 0; i < extents.Count; i++)
            {
                WriteExtent(iblock[(EntrySize * (i + 1))..], extents[i]);
            }

            return;
        }

        WriteHeader(iblock, leaves.Count, RootSlots, depth: 1);
        for (var i = 0; i < leaves.Count; i++)
        {
            var entry = iblock[(EntrySize * (i + 1))..];
            BinaryPrimitives.WriteUInt32LittleEndian(entry, extents[i * LeafSlots].Logical);
            BinaryPrimitives.WriteUInt32LittleEndian(entry[4..], (uint)leaves[i].Physical);
            BinaryPrimitives.WriteUInt16LittleEndian(entry[8..], (ushort)(leaves[i].Physical >> 32));
        }
    }

    /// <summary>Writes leaf number <paramref name="leaf"/> (extents leaf*340 onwards) into a whole block.</summary>
    public static void WriteLeaf(Span<byte> block, IReadOnlyList<Extent> extents, int leaf)
    {
        block[..Ext4Layout.BlockSize].Clear();
        var first = leaf * LeafSlots;
        var count = Math.Min(LeafSlots, extents.Count - first);
        WriteHeader(block, count, LeafSlots, depth: 0);
        for (var i = 0; i < count; i++)
        {
            WriteExtent(block[(EntrySize * (i + 1))..], extents[first + i]);
        }
    }

    private static void WriteHeader(Span<byte> target, int entries, int max, int depth)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(target, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(target[2..], (ushort)entries);
        BinaryPrimitives.WriteUInt16LittleEndian(target[4..], (ushort)max);
        BinaryPrimitives.WriteUInt16LittleEndian(target[6..], (ushort)depth);
    }

    private static void WriteExtent(Span<byte> target, Extent extent)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(target, extent.Logical);
        BinaryPrimitives.WriteUInt16LittleEndian(target[4..], (ushort)extent.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(target[6..], (ushort)(extent.Physical >> 32));
        BinaryPrimitives.WriteUInt32LittleEndian(target[8..], (uint)extent.Physical);
    }
}
