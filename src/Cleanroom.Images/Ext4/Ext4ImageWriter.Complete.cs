using System.Security.Cryptography;

namespace Cleanroom.Images.Ext4;

/// <summary>Finishing the image: directories, inode tables, bitmaps, group descriptors and superblocks.</summary>
public sealed partial class Ext4ImageWriter
{
    private const ushort MaxLinks = 65000; // EXT4_LINK_MAX; above it dir_nlink stores 1

    /// <summary>
    /// Writes the directories (now that all their entries are known), the remaining inodes, the bitmaps, the group
    /// descriptors and the superblock with its backups. Does not fsync. After this, <see cref="Dispose"/> keeps the file.
    /// </summary>
    public void Complete()
    {
        EnsureUsable();
        _broken = true;
        _inodes.Flush();
        foreach (var directory in _directoryOrder)
        {
            WriteDirectory(directory);
        }

        _data.Flush();
        WriteBitmapsAndSuperblocks();
        _data.Flush();
        _broken = false;
        _completed = true;
    }

    private void WriteDirectory(DirectoryNode directory)
    {
        // The directory's blocks were held back from files all along; they now leave the held count.
        _directoryBlocks -= directory.Blocks;
        _extents.Clear();
        var extents = _allocator.CountExtents(directory.Blocks, _options.MaxExtentBlocks);
        if (extents > ExtentTree.MaxExtents)
        {
            throw new Ext4ImageFullException(Ext4Resource.Blocks, $"Directory inode {directory.Inode} of {directory.Blocks} blocks would need {extents} extents; at most {ExtentTree.MaxExtents} are supported.");
        }

        EnsureBlocks(directory.Blocks + ExtentTree.LeafBlocksFor(extents));
        _allocator.Allocate(directory.Blocks, _options.MaxExtentBlocks, 0, _extents);
        var extentIndex = 0;
        directory.Encode(_block, (logical, block) =>
        {
            while (logical >= _extents[extentIndex].Logical + _extents[extentIndex].Length)
            {
                extentIndex++;
            }

            var extent = _extents[extentIndex];
            _data.Write((extent.Physical + logical - extent.Logical) * Ext4Layout.BlockSize, block);
        });
        var leafBlocks = WriteExtentTree();
        var links = 2 + directory.Subdirectories;
        InodeEncoder.Write(
            _inode,
            InodeEncoder.TypeDirectory,
            directory.Metadata,
            (ulong)directory.Blocks * Ext4Layout.BlockSize,
            links > MaxLinks ? (ushort)1 : (ushort)links,
            directory.Blocks + leafBlocks,
            InodeEncoder.ExtentsFlag,
            _iblock);
        _inodes.WriteDirect(directory.Inode, _inode);
    }

    private void WriteBitmapsAndSuperblocks()
    {
        var groups = _layout.GroupCount;
        var freeBlocks = new int[groups];
        var freeInodes = new int[groups];
        var directories = new int[groups];
        foreach (var directory in _directoryOrder)
        {
            directories[(directory.Inode - 1) / (uint)_layout.InodesPerGroup]++;
        }

        var used = MergeUsed(_layout.Reserved, _allocator.Used);
        var index = 0;
        for (var group = 0; group < groups; group++)
        {
            var block = _block.AsSpan();
            block.Clear();
            var groupStart = (long)group * _layout.BlocksPerGroup;
            var groupEnd = groupStart + _layout.BlocksPerGroup;
            while (index < used.Count && used[index].End <= groupStart)
            {
                index++;
            }

            var usedInGroup = 0;
            for (var i = index; i < used.Count && used[i].Start < groupEnd; i++)
            {
                var start = Math.Max(used[i].Start, groupStart);
                var end = Math.Min(used[i].End, groupEnd);
                Bitmap.Set(block, (int)(start - groupStart), (int)(end - start));
                usedInGroup += (int)(end - start);
            }

            // Bits past the group's blocks are set, as the kernel and libext2fs do.
            Bitmap.Set(block, _layout.BlocksPerGroup, Ext4Layout.BitsPerBlock - _layout.BlocksPerGroup);
            freeBlocks[group] = _layout.BlocksPerGroup - usedInGroup;
            _data.Write(_layout.BlockBitmaps[group] * Ext4Layout.BlockSize, block);
        }

        for (var group = 0; group < groups; group++)
        {
            var block = _block.AsSpan();
            block.Clear();
            // Inodes are handed out in order with none freed, so each group's used inodes are a prefix.
            var usedInodes = (int)Math.Clamp((long)_lastInode - (long)group * _layout.InodesPerGroup, 0, _layout.InodesPerGroup);
            Bitmap.Set(block, 0, usedInodes);
            Bitmap.Set(block, _layout.InodesPerGroup, Ext4Layout.BitsPerBlock - _layout.InodesPerGroup);
            freeInodes[group] = _layout.InodesPerGroup - usedInodes;
            _data.Write(_layout.InodeBitmaps[group] * Ext4Layout.BlockSize, block);
        }

        var descriptors = new byte[_layout.DescriptorBlocks * Ext4Layout.BlockSize];
        var totalFreeBlocks = 0L;
        for (var group = 0; group < groups; group++)
        {
            SuperblockEncoder.WriteDescriptor(descriptors, _layout, group, freeBlocks[group], freeInodes[group], directories[group]);
            totalFreeBlocks += freeBlocks[group];
        }

        var counts = new SuperblockEncoder.Counts(totalFreeBlocks, _layout.InodeCount - _lastInode);
        var uuid = _options.Uuid ?? Guid.NewGuid();
        // The hash seed only matters if dir_index is ever turned on; derived from the UUID so that the same UUID, time
        // and entries give a byte-identical image.
        var hashSeed = new Guid(SHA256.HashData(uuid.ToByteArray()).AsSpan(0, 16));
        var superblock = new byte[SuperblockEncoder.Size];
        for (var group = 0; group < groups; group++)
        {
            if (!Ext4Layout.HasSuperblock(group))
            {
                continue;
            }

            var groupStart = (long)group * _layout.BlocksPerGroup * Ext4Layout.BlockSize;
            SuperblockEncoder.Write(superblock, _layout, _options, uuid, hashSeed, counts, group);
            // Group 0's superblock sits 1,024 bytes into block 0 (after the boot sector); backups start their block.
            _data.Write(group == 0 ? SuperblockEncoder.Offset : groupStart, superblock);
            _data.Write(groupStart + Ext4Layout.BlockSize, descriptors);
        }
    }

    /// <summary>Merges two sorted lists of disjoint runs into one sorted list.</summary>
    private static List<BlockRange> MergeUsed(IReadOnlyList<BlockRange> first, IReadOnlyList<BlockRange> second)
    {
        var merged = new List<BlockRange>(first.Count + second.Count);
        int i = 0, j = 0;
        while (i < first.Count || j < second.Count)
        {
            merged.Add(j >= second.Count || (i < first.Count && first[i].Start < second[j].Start) ? first[i++] : second[j++]);
        }

        return merged;
    }
}
