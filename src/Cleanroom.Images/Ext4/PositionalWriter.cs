using Microsoft.Win32.SafeHandles;

namespace Cleanroom.Images.Ext4;

/// <summary>
/// A write-combining buffer over positional writes. Consecutive writes (files allocated back to back, with the gap up
/// to the next block boundary filled with the zeros the sparse file holds anyway) become one large pwrite, so thousands
/// of small files cost a handful of system calls. Callers read straight into <see cref="GetSpace"/>'s memory.
/// </summary>
internal sealed class PositionalWriter(SafeFileHandle handle, int capacity)
{
    private readonly byte[] _buffer = new byte[capacity];
    private long _start;
    private int _length;

    /// <summary>
    /// Free buffer memory that lands at file offset <paramref name="offset"/>, or empty when the pending bytes must be
    /// flushed first (buffer full, or <paramref name="offset"/> not directly after them).
    /// </summary>
    public Memory<byte> GetSpace(long offset)
    {
        if (_length == 0)
        {
            _start = offset;
            return _buffer;
        }

        var end = _start + _length;
        if (offset > end && offset - end < Ext4Layout.BlockSize && offset - _start < _buffer.Length)
        {
            // The rest of the previous file's last block: zero it so the write can continue.
            var gap = (int)(offset - end);
            _buffer.AsSpan(_length, gap).Clear();
            _length += gap;
            end = offset;
        }

        return offset == end && _length < _buffer.Length ? _buffer.AsMemory(_length) : Memory<byte>.Empty;
    }

    /// <summary>Marks <paramref name="count"/> bytes of the last <see cref="GetSpace"/> memory as written.</summary>
    public void Advance(int count) => _length += count;

    /// <summary>Copies <paramref name="data"/> to <paramref name="offset"/>, flushing synchronously as needed.</summary>
    public void Write(long offset, ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            var space = GetSpace(offset).Span;
            if (space.IsEmpty)
            {
                Flush();
                continue;
            }

            var count = Math.Min(space.Length, data.Length);
            data[..count].CopyTo(space);
            Advance(count);
            offset += count;
            data = data[count..];
        }
    }

    /// <summary>Writes the pending bytes.</summary>
    public void Flush()
    {
        if (_length > 0)
        {
            RandomAccess.Write(handle, _buffer.AsSpan(0, _length), _start);
            _length = 0;
        }
    }

    /// <summary>Writes the pending bytes without blocking the caller's thread.</summary>
    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        if (_length > 0)
        {
            await RandomAccess.WriteAsync(handle, _buffer.AsMemory(0, _length), _start, cancellationToken);
            _length = 0;
        }
    }
}
