using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Cleanroom.Gateway.Cache;

/// <summary>
/// The check a blob's reads are verified against, kept with the file itself as an extended attribute
/// (<c>user.cleanroom.xxh128</c>): the XXH128 of its bytes, computed in the same pass as the SHA-256 when the blob is
/// written. SHA-256 proves on write that the bytes are the ones their name (an OCI digest, a pinned hash) promises;
/// what a read must catch afterwards is the file changing on disk (bit rot, truncation, a stray edit), and XXH128
/// catches that at a small fraction of SHA-256's cost, which otherwise dominates serving a large cached object. It is
/// not a defence against someone who can write the cache directory: they could rewrite the metadata as well.
/// The attribute travels with the inode, so it is set on the temp file before the rename and read from the open
/// descriptor (no race with a replacement). A file without it (a file system without user attributes, a blob written
/// before this existed, or replaced by hand) is verified with SHA-256 against its name, as before.
/// </summary>
internal static partial class BlobReadCheck
{
    /// <summary>The attribute's name.</summary>
    public const string AttributeName = "user.cleanroom.xxh128";

    private const int ValueLength = 16;
    private const int NotSupported = 95;     // EOPNOTSUPP
    private const int NotPermitted = 1;      // EPERM

    /// <summary>
    /// Records <paramref name="check"/> on the open file; false when the file system keeps no user attributes (reads
    /// then fall back to SHA-256). Other failures throw, since they mean the put cannot be trusted.
    /// </summary>
    public static bool TryWrite(SafeFileHandle file, UInt128 check)
    {
        Span<byte> value = stackalloc byte[ValueLength];
        BinaryPrimitives.WriteUInt128BigEndian(value, check);
        if (FSetXattr(file, AttributeName, value, ValueLength, 0) == 0)
        {
            return true;
        }

        var errno = Marshal.GetLastPInvokeError();
        if (errno is NotSupported or NotPermitted) // user attributes refused on this file system or file
        {
            return false;
        }

        throw new IOException($"cannot record the read check on a cached blob (errno {errno})");
    }

    /// <summary>The check recorded on the open file, or null when it has none (verify with SHA-256 then).</summary>
    public static UInt128? TryRead(SafeFileHandle file)
    {
        // Absent (ENODATA), unsupported, or a value of another length (ERANGE when longer): not one to trust.
        Span<byte> value = stackalloc byte[ValueLength];
        return FGetXattr(file, AttributeName, value, ValueLength) == ValueLength
            ? BinaryPrimitives.ReadUInt128BigEndian(value)
            : null;
    }

    [LibraryImport("libc", EntryPoint = "fsetxattr", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int FSetXattr(SafeFileHandle fd, string name, ReadOnlySpan<byte> value, nuint size, int flags);

    [LibraryImport("libc", EntryPoint = "fgetxattr", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial nint FGetXattr(SafeFileHandle fd, string name, Span<byte> value, nuint size);
}
