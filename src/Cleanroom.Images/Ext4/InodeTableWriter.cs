using Microsoft.Win32.SafeHandles;

namespace Cleanroom.Images.Ext4;

/// <summary>
/// Buffers inodes written in ascending order into a window of one group's inode table and writes the window in one
/// piece. Slots in the window that were never filled (directories, finished at the end) are written as zeros and must be
/// written later with <see cref="WriteDirect"/>, after <see cref="Flush"/>.
/// </summary>
internal sealed class InodeTableWriter(SafeFileHandle handle, Ext4Layout layout)
{
    private const int WindowInodes = 1024;
    private readonly byte[] _buffer = new byte[WindowInodes * Ext4Layout.InodeSize];
    private uint _first;
    private int _capacity;
    private int _filled;

    // Inodes below this were covered by a window already written; a new window there would overwrite them with zeros.
    private uint _writtenEnd;

    /// <summary>Stores inode <paramref name="inode"/>; ascending numbers share a write.</summary>
    public void Put(uint inode, ReadOnlySpan<byte> data)
    {
        if (inode < _writtenEnd && (_capacity == 0 || inode < _first))
        {
            WriteDirect(inode, data);
            return;
        }

        if (_capacity == 0 || inode < _first || inode >= _first + (uint)_capacity)
        {
            Flush();
            _first = inode;
            var indexInGroup = (int)((inode - 1) % (uint)layout.InodesPerGroup);
            _capacity = Math.Min(WindowInodes, layout.InodesPerGroup - indexInGroup);
        }

        var slot = (int)(inode - _first);
        data[..Ext4Layout.InodeSize].CopyTo(_buffer.AsSpan(slot * Ext4Layout.InodeSize));
        _filled = Math.Max(_filled, slot + 1);
    }

    /// <summary>Writes the window (up to the last filled slot).</summary>
    public void Flush()
    {
        if (_filled > 0)
        {
            RandomAccess.Write(handle, _buffer.AsSpan(0, _filled * Ext4Layout.InodeSize), layout.InodeOffset(_first));
            _buffer.AsSpan(0, _filled * Ext4Layout.InodeSize).Clear();
            _writtenEnd = Math.Max(_writtenEnd, _first + (uint)_filled);
        }

        _filled = 0;
        _capacity = 0;
    }

    /// <summary>Writes one inode in place (directories, after the last <see cref="Flush"/>).</summary>
    public void WriteDirect(uint inode, ReadOnlySpan<byte> data) =>
        RandomAccess.Write(handle, data[..Ext4Layout.InodeSize], layout.InodeOffset(inode));
}
