using Cleanroom.GuestAgent.Native;

namespace Cleanroom.GuestAgent.Tools;

/// <summary>
/// A standard descriptor as a plain read()/write() stream. Not FileStream: on a descriptor that is a regular file
/// (stdout and stderr redirected to one file) it writes at its own offsets with pwrite and the two overwrite each
/// other. Not System.Console either: nothing here should touch terminal settings.
/// </summary>
internal sealed unsafe class DescriptorStream : Stream
{
    private readonly int _fd;
    private readonly bool _write;

    public DescriptorStream(int fd, bool write)
    {
        _fd = fd;
        _write = write;
    }

    public override bool CanRead => !_write;

    public override bool CanSeek => false;

    public override bool CanWrite => _write;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        fixed (byte* pointer = buffer)
        {
            while (true)
            {
                var read = LibC.Read(_fd, pointer, buffer.Length);
                if (read >= 0)
                {
                    return (int)read;
                }

                if (Errno.Last != Errno.EINTR)
                {
                    throw new IOException($"reading descriptor {_fd}: {Errno.DescribeLast()}");
                }
            }
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        fixed (byte* pointer = buffer)
        {
            var offset = 0;
            while (offset < buffer.Length)
            {
                var written = LibC.Write(_fd, pointer + offset, buffer.Length - offset);
                if (written > 0)
                {
                    offset += (int)written;
                }
                else if (written < 0 && Errno.Last != Errno.EINTR)
                {
                    throw new IOException($"writing descriptor {_fd}: {Errno.DescribeLast()}");
                }
            }
        }
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
