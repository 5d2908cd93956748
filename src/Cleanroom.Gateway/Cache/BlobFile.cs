using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Cleanroom.Gateway.Cache;

/// <summary>
/// A blob's file opened for reading, with what a reader needs from it (length, read check), shared by any number of
/// readers. Each reader holds a lease (a reference on the handle), so closing the file while readers are still
/// streaming only takes effect when the last of them ends: the descriptor number cannot be reused under a read.
/// </summary>
internal sealed partial class BlobFile
{
    private const int AtEmptyPath = 0x1000;     // AT_EMPTY_PATH: statx of the descriptor itself
    private const uint StatxNlink = 0x4;        // STATX_NLINK
    private const int StatxSize = 256;          // struct statx, with room to spare
    private const int StatxNlinkOffset = 16;    // __u32 stx_nlink, after stx_mask, stx_blksize and stx_attributes

    private BlobFile(SafeFileHandle handle, long length, UInt128? readCheck)
    {
        Handle = handle;
        Length = length;
        ReadCheck = readCheck;
    }

    /// <summary>The open descriptor; read it with positional reads only (readers share it).</summary>
    public SafeFileHandle Handle { get; }

    /// <summary>The file's length when it was opened: readers read this many bytes and no more.</summary>
    public long Length { get; }

    /// <summary>The XXH128 recorded with the file (<see cref="BlobReadCheck"/>), or null to verify the SHA-256.</summary>
    public UInt128? ReadCheck { get; }

    /// <summary>Opens the file at <paramref name="path"/>; null when it is absent.</summary>
    public static BlobFile? TryOpen(string path)
    {
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, FileOptions.SequentialScan);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }

        try
        {
            return new BlobFile(handle, RandomAccess.GetLength(handle), BlobReadCheck.TryRead(handle));
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Takes a reader's reference; false when the file has been closed and its last reader is gone.</summary>
    public bool TryLease()
    {
        var taken = false;
        try
        {
            Handle.DangerousAddRef(ref taken);
        }
        catch (ObjectDisposedException)
        {
            return false;
        }

        return taken;
    }

    /// <summary>Ends a reader's reference (the descriptor closes here when the file was closed meanwhile).</summary>
    public void EndLease() => Handle.DangerousRelease();

    /// <summary>Closes the file once its readers are done; a closed file takes no new leases.</summary>
    public void Close() => Handle.Dispose();

    /// <summary>
    /// True when the file no longer has a name: deleted, or replaced by a rename. A reader holding it would still read
    /// the old bytes (and verify them), but the store's answer for the digest is the file under its name now.
    /// </summary>
    public bool IsUnlinked()
    {
        Span<byte> buffer = stackalloc byte[StatxSize];
        if (Statx(Handle, "", AtEmptyPath, StatxNlink, buffer) != 0)
        {
            // Cannot tell: treat it as gone, so the caller opens the path again (which answers for itself).
            return true;
        }

        return MemoryMarshal.Read<uint>(buffer[StatxNlinkOffset..]) == 0;
    }

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Statx(SafeFileHandle dirfd, string path, int flags, uint mask, Span<byte> buffer);
}
