using System.Runtime.InteropServices;

namespace Cleanroom.GuestAgent.Native;

/// <summary>
/// File-system calls the built-in file tools need and .NET does not offer without following symlinks or losing
/// detail (uid/gid, device numbers, nanosecond times, xattrs, hard links).
/// </summary>
internal static unsafe partial class LibC
{
    public const int AT_FDCWD = -100;
    public const int AT_SYMLINK_NOFOLLOW = 0x100;

    /// <summary>STATX_BASIC_STATS: type, mode, nlink, uid, gid, atime, mtime, ctime, ino, size, blocks.</summary>
    public const uint STATX_BASIC_STATS = 0x7ff;

    /// <summary>utimensat: leave this timestamp as it is.</summary>
    public const long UTIME_OMIT = (1L << 30) - 2;

    [LibraryImport(Library, EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int Statx(int directoryFd, string path, int flags, uint mask, StatxBuffer* buffer);

    [LibraryImport(Library, EntryPoint = "lgetxattr", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial nint LGetXattr(string path, string name, byte* value, nuint size);

    [LibraryImport(Library, EntryPoint = "readlink", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial nint ReadLink(string path, byte* buffer, nuint size);

    [LibraryImport(Library, EntryPoint = "utimensat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int UtimensAt(int directoryFd, string path, TimeSpec* times, int flags);

    [LibraryImport(Library, EntryPoint = "mkdir", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int MkDir(string path, uint mode);

    [LibraryImport(Library, EntryPoint = "chmod", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int ChMod(string path, uint mode);

    [LibraryImport(Library, EntryPoint = "lchown", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int LChown(string path, uint uid, uint gid);

    [LibraryImport(Library, EntryPoint = "symlink", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int SymLink(string target, string linkPath);

    [LibraryImport(Library, EntryPoint = "link", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int Link(string existing, string newPath);

    [LibraryImport(Library, EntryPoint = "rename", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int Rename(string from, string to);

    [LibraryImport(Library, EntryPoint = "unlink", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int Unlink(string path);

    [LibraryImport(Library, EntryPoint = "rmdir", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int RmDir(string path);

    /// <summary>struct statx (the kernel's layout, the same on every architecture); 256 bytes.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 256)]
    public struct StatxBuffer
    {
        [FieldOffset(16)]
        public uint NLink;

        [FieldOffset(20)]
        public uint Uid;

        [FieldOffset(24)]
        public uint Gid;

        [FieldOffset(28)]
        public ushort Mode;

        [FieldOffset(32)]
        public ulong Ino;

        [FieldOffset(40)]
        public ulong Size;

        [FieldOffset(112)]
        public long MTimeSeconds;

        [FieldOffset(120)]
        public uint MTimeNanoseconds;

        [FieldOffset(128)]
        public uint RDevMajor;

        [FieldOffset(132)]
        public uint RDevMinor;

        [FieldOffset(136)]
        public uint DevMajor;

        [FieldOffset(140)]
        public uint DevMinor;
    }

    /// <summary>struct timespec on 64-bit Linux.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
