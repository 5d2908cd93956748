using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Cleanroom.Images.Ext4;

/// <summary>
/// Writes a read-only ext4 image directly, without a staging directory or mkfs: file content is streamed into blocks
/// allocated sequentially from a cursor (large positional writes, never held in memory), inodes go to the inode tables
/// as files arrive, and directories, bitmaps, descriptors and superblocks are written by <see cref="Complete"/>. Nothing
/// is fsynced; the caller flushes when it needs durability.
/// </summary>
/// <remarks>
/// Everything added may come from a hostile repository: names, modes and targets are validated, and the number of
/// inodes and blocks is bounded by the options (<see cref="Ext4ImageFullException"/>). Not thread-safe. Until
/// <see cref="Complete"/> succeeds the file is a partial image, and <see cref="Dispose"/> deletes it.
/// </remarks>
public sealed partial class Ext4ImageWriter : IDisposable
{
    /// <summary>The root directory's inode, the parent for top-level entries.</summary>
    public const uint RootInode = 2;

    private const uint LostAndFoundInode = 11;
    private const int CopyBufferBytes = 1 << 20;
    private const int FastSymlinkMax = 59; // a fast symlink's target plus NUL fits i_block's 60 bytes

    private readonly string _path;
    private readonly SafeFileHandle _handle;
    private readonly Ext4ImageOptions _options;
    private readonly Ext4Layout _layout;
    private readonly BlockAllocator _allocator;
    private readonly PositionalWriter _data;
    private readonly InodeTableWriter _inodes;
    private readonly Dictionary<uint, DirectoryNode> _directories = [];
    private readonly List<DirectoryNode> _directoryOrder = [];
    private readonly HashSet<(uint Parent, string Name)> _names = [];
    private readonly List<Extent> _extents = [];
    private readonly List<Extent> _leaves = [];
    private readonly byte[] _inode = new byte[Ext4Layout.InodeSize];
    private readonly byte[] _block = new byte[Ext4Layout.BlockSize];
    private readonly byte[] _iblock = new byte[60];
    private uint _lastInode;
    private long _directoryBlocks;
    private bool _broken;
    private bool _completed;
    private bool _disposed;

    private Ext4ImageWriter(string path, SafeFileHandle handle, Ext4ImageOptions options, Ext4Layout layout)
    {
        _path = path;
        _handle = handle;
        _options = options;
        _layout = layout;
        _allocator = new BlockAllocator(layout.BlockCount, layout.Reserved);
        layout.PlaceMetadata(_allocator, options.CapacityBytes);
        _data = new PositionalWriter(handle, CopyBufferBytes);
        _inodes = new InodeTableWriter(handle, layout);
        _lastInode = LostAndFoundInode - 1; // inodes 1..10 are reserved and counted as used
        AddDirectoryNode(new DirectoryNode(RootInode, RootInode, new Ext4Metadata(0x1ED, 0, 0, options.TimestampSeconds)));
        if (options.LostAndFound)
        {
            var lostAndFound = new DirectoryNode(LostAndFoundInode, RootInode, new Ext4Metadata(0x1C0, 0, 0, options.TimestampSeconds)) { MinimumBlocks = 4 };
            Link(_directories[RootInode], "lost+found", LostAndFoundInode, DirectoryNode.FileTypeDirectory);
            AddDirectoryNode(lostAndFound);
            _lastInode = LostAndFoundInode;
        }

        EnsureBlocks(0);
    }

    /// <summary>
    /// Creates the image file at <paramref name="path"/> (which must not exist) as a sparse file of the capacity
    /// rounded up to whole block groups. <see cref="ArgumentException"/> when the options cannot make a valid image.
    /// </summary>
    public static Ext4ImageWriter Create(string path, Ext4ImageOptions options)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(options);
        if (Encoding.UTF8.GetByteCount(options.Label) > 16)
        {
            throw new ArgumentException($"The label '{options.Label}' is longer than 16 bytes.", nameof(options));
        }

        var layout = Ext4Layout.Compute(options);
        var handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None);
        try
        {
            RandomAccess.SetLength(handle, layout.BlockCount * Ext4Layout.BlockSize);
            return new Ext4ImageWriter(path, handle, options, layout);
        }
        catch
        {
            handle.Dispose();
            File.Delete(path);
            throw;
        }
    }

    /// <summary>Sets the root directory's permissions, owner and time (0755 root:root at the options' time otherwise).</summary>
    public void SetRootMetadata(Ext4Metadata metadata)
    {
        EnsureUsable();
        Ext4Names.Validate(metadata, nameof(metadata));
        _directories[RootInode].Metadata = metadata;
    }

    /// <summary>Adds an empty directory under <paramref name="parent"/> and returns its inode, the parent of its entries.</summary>
    public uint AddDirectory(uint parent, ReadOnlySpan<byte> name, Ext4Metadata metadata)
    {
        var (directory, key) = PrepareEntry(parent, name, metadata);
        EnsureInode();
        // The new directory's own block plus the parent's possible growth.
        EnsureBlocks(1 + directory.GrowthFor(key.Length));
        var inode = ++_lastInode;
        Link(directory, key, inode, DirectoryNode.FileTypeDirectory);
        AddDirectoryNode(new DirectoryNode(inode, parent, metadata));
        return inode;
    }

    /// <summary>
    /// Adds a symbolic link. Targets under 60 bytes are stored in the inode (fast symlink); longer ones (up to 4,095
    /// bytes, no NUL) take one data block.
    /// </summary>
    public void AddSymlink(uint parent, ReadOnlySpan<byte> name, ReadOnlySpan<byte> target, Ext4Metadata metadata)
    {
        var (directory, key) = PrepareEntry(parent, name, metadata);
        Ext4Names.ValidateTarget(target, nameof(target));
        EnsureInode();
        var fast = target.Length <= FastSymlinkMax;
        EnsureBlocks((fast ? 0 : 1) + directory.GrowthFor(key.Length));
        var inode = ++_lastInode;
        Link(directory, key, inode, DirectoryNode.FileTypeSymlink);
        var iblock = _iblock.AsSpan();
        iblock.Clear();
        if (fast)
        {
            target.CopyTo(iblock);
            InodeEncoder.Write(_inode, InodeEncoder.TypeSymlink, metadata, (ulong)target.Length, 1, 0, 0, iblock);
        }
        else
        {
            _broken = true;
            _extents.Clear();
            _allocator.Allocate(1, 1, 0, _extents);
            _block.AsSpan().Clear();
            target.CopyTo(_block);
            _data.Write(_extents[0].Physical * Ext4Layout.BlockSize, _block.AsSpan(0, target.Length));
            ExtentTree.WriteRoot(iblock, _extents, []);
            InodeEncoder.Write(_inode, InodeEncoder.TypeSymlink, metadata, (ulong)target.Length, 1, 1, InodeEncoder.ExtentsFlag, iblock);
            _broken = false;
        }

        _inodes.Put(inode, _inode);
    }

    /// <summary>Adds a regular file whose content is already in memory (small files).</summary>
    public void AddFile(uint parent, ReadOnlySpan<byte> name, Ext4Metadata metadata, ReadOnlySpan<byte> content)
    {
        var inode = BeginFile(parent, name, metadata, content.Length);
        _broken = true;
        var remaining = content;
        foreach (var extent in _extents)
        {
            var bytes = (int)Math.Min(remaining.Length, (long)extent.Length * Ext4Layout.BlockSize);
            _data.Write(extent.Physical * Ext4Layout.BlockSize, remaining[..bytes]);
            remaining = remaining[bytes..];
        }

        EndFile(inode, metadata, content.Length);
        _broken = false;
    }

    /// <summary>
    /// Adds a regular file of <paramref name="length"/> bytes read from <paramref name="content"/>: exactly that many
    /// bytes are read, leaving the stream right after them (a <c>git cat-file --batch</c> stream can go on to the next
    /// object). <see cref="EndOfStreamException"/> when the stream ends early; the image is then unusable.
    /// </summary>
    public async Task AddFileAsync(uint parent, ReadOnlyMemory<byte> name, Ext4Metadata metadata, Stream content, long length, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        cancellationToken.ThrowIfCancellationRequested();
        var inode = BeginFile(parent, name.Span, metadata, length);
        _broken = true;
        var remaining = length;
        foreach (var extent in _extents)
        {
            var offset = extent.Physical * Ext4Layout.BlockSize;
            var bytes = Math.Min(remaining, (long)extent.Length * Ext4Layout.BlockSize);
            while (bytes > 0)
            {
                var space = _data.GetSpace(offset);
                if (space.IsEmpty)
                {
                    await _data.FlushAsync(cancellationToken);
                    space = _data.GetSpace(offset);
                }

                var read = await content.ReadAsync(space[..(int)Math.Min(space.Length, bytes)], cancellationToken);
                if (read == 0)
                {
                    throw new EndOfStreamException($"The content of a {length}-byte file ended after {length - remaining} bytes.");
                }

                _data.Advance(read);
                offset += read;
                bytes -= read;
                remaining -= read;
            }
        }

        EndFile(inode, metadata, length);
        _broken = false;
    }

    /// <summary>Closes the file; deletes it unless <see cref="Complete"/> succeeded, so no partial image is left behind.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _handle.Dispose();
        if (!_completed)
        {
            File.Delete(_path);
        }
    }

    /// <summary>Validates an entry and returns its parent directory and its name as a Latin-1 key.</summary>
    private (DirectoryNode Directory, string Key) PrepareEntry(uint parent, ReadOnlySpan<byte> name, Ext4Metadata metadata)
    {
        EnsureUsable();
        var key = Ext4Names.Validate(name, nameof(name));
        Ext4Names.Validate(metadata, nameof(metadata));
        if (!_directories.TryGetValue(parent, out var directory))
        {
            throw new ArgumentException($"Parent inode {parent} is not a directory of this image.", nameof(parent));
        }

        if (_names.Contains((parent, key)))
        {
            throw new ArgumentException($"'{Ext4Names.Describe(name)}' already exists in directory inode {parent}.", nameof(name));
        }

        return (directory, key);
    }

    /// <summary>Checks a file entry, allocates its inode and data extents (into <see cref="_extents"/>) and links it.</summary>
    private uint BeginFile(uint parent, ReadOnlySpan<byte> name, Ext4Metadata metadata, long length)
    {
        var (directory, key) = PrepareEntry(parent, name, metadata);
        EnsureInode();
        var blocks = (length + Ext4Layout.BlockSize - 1) / Ext4Layout.BlockSize;
        var growth = directory.GrowthFor(key.Length);
        EnsureBlocks(blocks + growth);
        var extents = _allocator.CountExtents(blocks, _options.MaxExtentBlocks);
        if (extents > ExtentTree.MaxExtents)
        {
            throw new ArgumentException(
                $"A {length}-byte file needs {extents} extents; the writer supports {ExtentTree.MaxExtents} (a depth-1 extent tree).", nameof(length));
        }

        var leaves = ExtentTree.LeafBlocksFor(extents);
        EnsureBlocks(blocks + leaves + growth);
        var inode = ++_lastInode;
        Link(directory, key, inode, DirectoryNode.FileTypeRegular);
        _extents.Clear();
        _allocator.Allocate(blocks, _options.MaxExtentBlocks, 0, _extents);
        return inode;
    }

    /// <summary>Writes a file's extent leaves (allocated after its data) and its inode.</summary>
    private void EndFile(uint inode, Ext4Metadata metadata, long length)
    {
        var leafBlocks = WriteExtentTree();
        InodeEncoder.Write(_inode, InodeEncoder.TypeRegular, metadata, (ulong)length, 1, DataBlocks() + leafBlocks, InodeEncoder.ExtentsFlag, _iblock);
        _inodes.Put(inode, _inode);
    }

    /// <summary>
    /// Builds the extent tree of <see cref="_extents"/> into <see cref="_iblock"/>, allocating and writing leaf blocks
    /// when needed; returns the number of leaf blocks.
    /// </summary>
    private int WriteExtentTree()
    {
        _leaves.Clear();
        var leafCount = ExtentTree.LeafBlocksFor(_extents.Count);
        if (leafCount > 0)
        {
            EnsureBlocks(leafCount);
            _allocator.Allocate(leafCount, 1, 0, _leaves);
            for (var leaf = 0; leaf < leafCount; leaf++)
            {
                ExtentTree.WriteLeaf(_block, _extents, leaf);
                _data.Write(_leaves[leaf].Physical * Ext4Layout.BlockSize, _block);
            }
        }

        ExtentTree.WriteRoot(_iblock, _extents, _leaves);
        return leafCount;
    }

    private long DataBlocks()
    {
        var blocks = 0L;
        foreach (var extent in _extents)
        {
            blocks += extent.Length;
        }

        return blocks;
    }

    private void Link(DirectoryNode directory, string key, uint inode, byte fileType)
    {
        _directoryBlocks += directory.GrowthFor(key.Length);
        directory.Add(key, inode, fileType);
        _names.Add((directory.Inode, key));
    }

    private void AddDirectoryNode(DirectoryNode directory)
    {
        _directories.Add(directory.Inode, directory);
        _directoryOrder.Add(directory);
        _directoryBlocks += directory.Blocks;
    }

    private void EnsureUsable()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_broken)
        {
            throw new InvalidOperationException("An earlier write to this ext4 image failed; the image is unusable.");
        }

        if (_completed)
        {
            throw new InvalidOperationException("The ext4 image is complete; nothing more can be added.");
        }
    }

    private void EnsureInode()
    {
        if (_lastInode >= _layout.InodeCount)
        {
            throw new Ext4ImageFullException(
                Ext4Resource.Inodes,
                $"The ext4 image is out of inodes: all {_layout.InodeCount} are used (InodeCount {_options.InodeCount}, {_directories.Count} directories).");
        }
    }

    /// <summary>Checks that <paramref name="blocks"/> more blocks fit next to the blocks the directories will need.</summary>
    private void EnsureBlocks(long blocks)
    {
        if (blocks + _directoryBlocks > _allocator.FreeBlocks)
        {
            throw new Ext4ImageFullException(
                Ext4Resource.Blocks,
                $"The ext4 image is out of blocks: {blocks} more blocks of {Ext4Layout.BlockSize} bytes are needed, {_allocator.FreeBlocks} are free and {_directoryBlocks} of those are held for directories (capacity {_layout.BlockCount * Ext4Layout.BlockSize} bytes, CapacityBytes {_options.CapacityBytes}).");
        }
    }
}
