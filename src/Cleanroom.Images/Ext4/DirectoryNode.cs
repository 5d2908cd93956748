using System.Buffers.Binary;
using System.Text;

namespace Cleanroom.Images.Ext4;

/// <summary>
/// A directory being built: its entries in insertion order and, kept up to date as entries arrive, how many linear
/// (no htree) directory blocks they fill, so the writer can reserve those blocks before the directory is written.
/// </summary>
internal sealed class DirectoryNode
{
    public const byte FileTypeRegular = 1;
    public const byte FileTypeDirectory = 2;
    public const byte FileTypeSymlink = 7;

    private const int HeaderSize = 8;
    private const int DotEntriesSize = 24; // "." and "..", 12 bytes each

    private readonly List<Entry> _entries = [];
    private int _usedInLastBlock = DotEntriesSize;
    private int _minimumBlocks = 1;

    public DirectoryNode(uint inode, uint parent, Ext4Metadata metadata)
    {
        Inode = inode;
        Parent = parent;
        Metadata = metadata;
    }

    public uint Inode { get; }

    public uint Parent { get; }

    public Ext4Metadata Metadata { get; set; }

    public int Subdirectories { get; private set; }

    /// <summary>Blocks the entries fill (at least <see cref="MinimumBlocks"/>).</summary>
    public int Blocks => Math.Max(ContentBlocks, _minimumBlocks);

    /// <summary>Extra empty blocks, as mke2fs gives lost+found so e2fsck can relink files without allocating.</summary>
    public int MinimumBlocks
    {
        get => _minimumBlocks;
        init => _minimumBlocks = value;
    }

    private int ContentBlocks { get; set; } = 1;

    /// <summary>The blocks <see cref="Blocks"/> grows by when an entry of <paramref name="nameLength"/> bytes is added.</summary>
    public int GrowthFor(int nameLength)
    {
        var grown = _usedInLastBlock + EntrySize(nameLength) > Ext4Layout.BlockSize ? ContentBlocks + 1 : ContentBlocks;
        return Math.Max(grown, _minimumBlocks) - Blocks;
    }

    /// <summary>Adds an entry (the name already validated and checked for duplicates).</summary>
    public void Add(string latin1Name, uint inode, byte fileType)
    {
        var size = EntrySize(latin1Name.Length);
        if (_usedInLastBlock + size > Ext4Layout.BlockSize)
        {
            ContentBlocks++;
            _usedInLastBlock = size;
        }
        else
        {
            _usedInLastBlock += size;
        }

        _entries.Add(new Entry(latin1Name, inode, fileType));
        if (fileType == FileTypeDirectory)
        {
            Subdirectories++;
        }
    }

    /// <summary>
    /// Produces the directory's blocks one at a time into <paramref name="block"/> and hands each to
    /// <paramref name="emit"/> with its logical number: "." and ".." first, each block's last entry stretched to the block end.
    /// </summary>
    public void Encode(byte[] block, Action<int, byte[]> emit)
    {
        var logical = 0;
        block.AsSpan().Clear();
        var used = 0;
        var last = -1;
        WriteEntry(block, ref used, ref last, ".", Inode, FileTypeDirectory);
        WriteEntry(block, ref used, ref last, "..", Parent, FileTypeDirectory);
        foreach (var entry in _entries)
        {
            if (used + EntrySize(entry.Name.Length) > Ext4Layout.BlockSize)
            {
                Stretch(block, last);
                emit(logical++, block);
                block.AsSpan().Clear();
                used = 0;
                last = -1;
            }

            WriteEntry(block, ref used, ref last, entry.Name, entry.Inode, entry.FileType);
        }

        Stretch(block, last);
        emit(logical++, block);
        while (logical < Blocks)
        {
            // An empty block: one unused entry (inode 0) spanning it.
            block.AsSpan().Clear();
            BinaryPrimitives.WriteUInt16LittleEndian(block.AsSpan(4), Ext4Layout.BlockSize);
            emit(logical++, block);
        }
    }

    private static int EntrySize(int nameLength) => (HeaderSize + nameLength + 3) & ~3;

    private static void WriteEntry(byte[] block, ref int used, ref int last, string name, uint inode, byte fileType)
    {
        var size = EntrySize(name.Length);
        var target = block.AsSpan(used);
        BinaryPrimitives.WriteUInt32LittleEndian(target, inode);
        BinaryPrimitives.WriteUInt16LittleEndian(target[4..], (ushort)size);
        target[6] = (byte)name.Length;
        target[7] = fileType;
        Encoding.Latin1.GetBytes(name, target[HeaderSize..]);
        last = used;
        used += size;
    }

    private static void Stretch(byte[] block, int last) =>
        BinaryPrimitives.WriteUInt16LittleEndian(block.AsSpan(last + 4), (ushort)(Ext4Layout.BlockSize - last));

    private readonly record struct Entry(string Name, uint Inode, byte FileType);
}
