using System.Runtime.InteropServices;

namespace Cleanroom.Daemon.Executions;

/// <summary>
/// The device and inode of an output log, sent with its path to a client that reads the file itself: the client
/// compares them with the file it opened, so a path that names another file in its mount namespace is not read.
/// </summary>
internal static partial class LogFileIdentity
{
    private const int StatxBufferSize = 256;  // struct statx is 256 bytes
    private const uint StatxIno = 0x100;      // STATX_INO
    private const int InodeOffset = 32;       // __u64 stx_ino
    private const int DeviceMajorOffset = 136; // __u32 stx_dev_major, then stx_dev_minor

    /// <summary>(device, inode) of the file at <paramref name="path"/>; null when it cannot be read.</summary>
    public static (ulong Device, ulong Inode)? Of(string path)
    {
        Span<byte> buffer = stackalloc byte[StatxBufferSize];
        if (Statx(-100 /* AT_FDCWD */, path, 0, StatxIno, buffer) != 0)
        {
            return null;
        }

        // Native byte order, as the kernel fills it.
        var device = ((ulong)MemoryMarshal.Read<uint>(buffer[DeviceMajorOffset..]) << 32) | MemoryMarshal.Read<uint>(buffer[(DeviceMajorOffset + 4)..]);
        return (device, MemoryMarshal.Read<ulong>(buffer[InodeOffset..]));
    }

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Statx(int directoryFd, string path, int flags, uint mask, Span<byte> buffer);
}
