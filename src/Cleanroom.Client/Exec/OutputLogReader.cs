using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Cleanroom.Api.V1;
using Microsoft.Win32.SafeHandles;

namespace Cleanroom.Client.Exec;

/// <summary>
/// Reads a command's output from its log file on the daemon's host (RunExecution with <c>read_output_log</c>), so the
/// bytes do not cross the daemon's socket: opens the path the daemon named, checks that it is the daemon's file (its
/// device and inode), and copies the records up to each length the daemon publishes to stdout and stderr. Records are
/// <c>[kind u8: 1 stdout, 2 stderr][length u32 big-endian][bytes]</c>; the file is the daemon's, but a record that does
/// not fit what was published is refused rather than trusted.
/// </summary>
internal sealed partial class OutputLogReader : IDisposable
{
    private const int RecordHeader = 5;
    private const int ChunkSize = 256 * 1024;
    private readonly SafeFileHandle _file;
    private readonly byte[] _header = new byte[RecordHeader];
    private long _offset;

    // Bit 1: stdout's descriptor refused sendfile; bit 2: stderr's.
    private int _kernelCopyRefused;

    private OutputLogReader(SafeFileHandle file) => _file = file;

    /// <summary>The log, or null when this process cannot open it or the path names another file here.</summary>
    public static OutputLogReader? TryOpen(OutputLogFile location)
    {
        ArgumentNullException.ThrowIfNull(location);
        SafeFileHandle file;
        try
        {
            file = File.OpenHandle(location.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return null; // another user, another mount namespace, or gone: the output comes over the socket instead
        }

        if (IdentityOf(file) != (location.Device, location.Inode))
        {
            file.Dispose();
            return null;
        }

        return new OutputLogReader(file);
    }

    /// <summary>How a <see cref="CopyToAsync"/> ended.</summary>
    public enum CopyEnd
    {
        /// <summary>Every record up to the length went out.</summary>
        Copied,

        /// <summary>The reader of our output went away.</summary>
        ReaderGone,

        /// <summary>The file could not be read there, or holds no whole records up to the length.</summary>
        Unreadable,
    }

    /// <summary>
    /// Copies the records between what was copied so far and <paramref name="length"/> to the exec's stdout and stderr
    /// (by the kernel to a descriptor <paramref name="io"/> names, through its streams otherwise); returns the output bytes
    /// written however it ended, so a caller going on elsewhere knows exactly what was printed, and how it ended.
    /// </summary>
    public async Task<(long Written, CopyEnd End)> CopyToAsync(long length, ExecIo io, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(io);
        long written = 0;
        byte[]? buffer = null;
        try
        {
            while (_offset < length)
            {
                if (_offset + RecordHeader > length)
                {
                    throw new InvalidDataException($"the output log's length {length} ends inside a record header at {_offset}");
                }

                ReadExactly(_header, _offset);
                var kind = _header[0];
                var size = BinaryPrimitives.ReadUInt32BigEndian(_header.AsSpan(1));
                if (kind is not (1 or 2) || _offset + RecordHeader + size > length)
                {
                    throw new InvalidDataException($"the output log holds no whole record at {_offset} (kind {kind}, {size} bytes, {length} published)");
                }

                var position = _offset + RecordHeader;
                var end = position + size;
                var start = position;
                var sent = SendByKernel(kind == 1 ? io.StdoutFile : io.StderrFile, kind, ref position, end);
                written += position - start;
                if (sent == KernelCopy.Outcome.ReaderGone)
                {
                    return (written, CopyEnd.ReaderGone);
                }

                // Whatever the kernel did not send (a descriptor that takes no sendfile, or an error the ordinary path
                // reports as it always did) goes through the stream, from where it stopped.
                var target = kind == 1 ? io.Stdout : io.Stderr;
                while (position < end)
                {
                    buffer ??= ArrayPool<byte>.Shared.Rent(ChunkSize);
                    var piece = buffer.AsMemory(0, (int)Math.Min(end - position, buffer.Length));
                    ReadExactly(piece.Span, position);
                    try
                    {
                        await target.WriteAsync(piece, cancellationToken);
                        await target.FlushAsync(cancellationToken);
                    }
                    catch (IOException)
                    {
                        return (written, CopyEnd.ReaderGone);
                    }

                    position += piece.Length;
                    written += piece.Length;
                }

                _offset = end;
            }

            return (written, CopyEnd.Copied);
        }
        catch (InvalidDataException)
        {
            // Records before the bad one went out already: they count, or a caller going on from here prints them twice.
            return (written, CopyEnd.Unreadable);
        }
        finally
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    /// <summary>
    /// Sends what it can of [<paramref name="position"/>, <paramref name="end"/>) to <paramref name="target"/> by the
    /// kernel, advancing <paramref name="position"/>; a target that refuses (a file opened for appending; a terminal
    /// before Linux 5.11) is not tried again.
    /// </summary>
    private KernelCopy.Outcome SendByKernel(SafeFileHandle? target, byte kind, ref long position, long end)
    {
        var refusedBit = kind == 1 ? 1 : 2;
        if (target is null || (_kernelCopyRefused & refusedBit) != 0)
        {
            return KernelCopy.Outcome.Unsupported;
        }

        var outcome = KernelCopy.Send(target, _file, ref position, end);
        if (outcome == KernelCopy.Outcome.Unsupported)
        {
            _kernelCopyRefused |= refusedBit;
        }

        return outcome;
    }

    public void Dispose() => _file.Dispose();

    private void ReadExactly(Span<byte> buffer, long offset)
    {
        while (!buffer.IsEmpty)
        {
            int read;
            try
            {
                read = RandomAccess.Read(_file, buffer, offset);
            }
            catch (IOException ex)
            {
                throw new InvalidDataException("the output log could not be read: " + ex.Message, ex);
            }

            if (read == 0)
            {
                throw new InvalidDataException($"the output log ends at {offset}, before the length the daemon published");
            }

            buffer = buffer[read..];
            offset += read;
        }
    }

    /// <summary>(device, inode) of an open file, as the daemon computes them; (0, 0) when unknown.</summary>
    private static (ulong, ulong) IdentityOf(SafeFileHandle file)
    {
        Span<byte> statx = stackalloc byte[256];
        if (Statx(file, "", 0x1000 /* AT_EMPTY_PATH */, 0x100 /* STATX_INO */, statx) != 0)
        {
            return (0, 0);
        }

        // struct statx in native byte order: stx_ino at 32, stx_dev_major and stx_dev_minor at 136 and 140.
        var device = ((ulong)MemoryMarshal.Read<uint>(statx[136..]) << 32) | MemoryMarshal.Read<uint>(statx[140..]);
        return (device, MemoryMarshal.Read<ulong>(statx[32..]));
    }

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Statx(SafeFileHandle file, string path, int flags, uint mask, Span<byte> buffer);
}
