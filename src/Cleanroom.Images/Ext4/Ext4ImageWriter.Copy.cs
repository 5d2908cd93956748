using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Cleanroom.Images.Ext4;

/// <summary>Adding a file whose content is another file on the host, copied by the kernel.</summary>
public sealed partial class Ext4ImageWriter
{
    private const int SeekSet = 0;
    private const long MaxSendfileBytes = 0x7FFFF000;

    /// <summary>
    /// Adds a regular file whose content is the first <paramref name="length"/> bytes of <paramref name="source"/>,
    /// copied inside the kernel with <c>sendfile</c> (page cache to page cache, across file systems too) rather than
    /// through a buffer: for a pack of hundreds of MB the read into user space and the write back were half the cost.
    /// Falls back to buffered copying if the kernel refuses. <see cref="EndOfStreamException"/> when the source is
    /// shorter; the image is then unusable.
    /// </summary>
    public void AddFileCopy(uint parent, ReadOnlySpan<byte> name, Ext4Metadata metadata, SafeFileHandle source, long length)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        var inode = BeginFile(parent, name, metadata, length);
        _broken = true;
        long copied = 0;
        foreach (var extent in _extents)
        {
            var target = extent.Physical * Ext4Layout.BlockSize;
            var bytes = Math.Min(length - copied, (long)extent.Length * Ext4Layout.BlockSize);
            CopyRange(source, copied, target, bytes);
            copied += bytes;
        }

        EndFile(inode, metadata, length);
        _broken = false;
    }

    private void CopyRange(SafeFileHandle source, long sourceOffset, long target, long bytes)
    {
        var fd = (int)_handle.DangerousGetHandle();
        while (bytes > 0)
        {
            long sent = -1;
            // sendfile writes at the output's file position, which nothing else here uses (all other writes are
            // positional).
            if (LSeek(fd, target, SeekSet) == target)
            {
                sent = SendFile(fd, (int)source.DangerousGetHandle(), ref sourceOffset, (nuint)Math.Min(bytes, MaxSendfileBytes));
            }

            if (sent < 0)
            {
                sent = CopyThroughBuffer(source, sourceOffset, target, bytes);
                sourceOffset += sent;
            }
            else if (sent == 0)
            {
                throw new EndOfStreamException($"The source file ended {bytes} bytes early.");
            }

            target += sent;
            bytes -= sent;
        }
    }

    private long CopyThroughBuffer(SafeFileHandle source, long sourceOffset, long target, long bytes)
    {
        var done = 0L;
        while (done < bytes)
        {
            _data.Flush();
            var space = _data.GetSpace(target + done);
            var read = RandomAccess.Read(source, space.Span[..(int)Math.Min(space.Length, bytes - done)], sourceOffset + done);
            if (read == 0)
            {
                throw new EndOfStreamException($"The source file ended {bytes - done} bytes early.");
            }

            _data.Advance(read);
            done += read;
        }

        return done;
    }

    [LibraryImport("libc", EntryPoint = "lseek", SetLastError = true)]
    private static partial long LSeek(int fd, long offset, int whence);

    [LibraryImport("libc", EntryPoint = "sendfile", SetLastError = true)]
    private static partial long SendFile(int outFd, int inFd, ref long offset, nuint count);
}
