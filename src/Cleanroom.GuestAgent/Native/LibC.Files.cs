using System.Runtime.InteropServices;
using Cleanroom.Escaping;

namespace Cleanroom.GuestAgent.Native;

/// <summary>
/// File-system calls the built-in file tools need and .NET does not offer without following symlinks or losing
/// detail (uid/gid, device numbers, nanosecond times, xattrs, hard links). Paths marshal through
/// <see cref="FileNameMarshaller"/>: a name that is not valid UTF-8 reaches the kernel as the bytes it stands for.
/// </summary>
internal static unsafe partial class LibC
{
    public const int AT_FDCWD = -100;
    public const int AT_SYMLINK_NOFOLLOW = 0x100;

    public const int O_CREAT = 0x40;
    public const int O_EXCL = 0x80;

    /// <summary>O_NOFOLLOW: 0400000 on x86-64, 0100000 on arm64 (one of the flags that differ).</summary>
    public static int O_NOFOLLOW => RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 0x8000 : 0x20000;

    /// <summary>STATX_BASIC_STATS: type, mode, nlink, uid, gid, atime, mtime, ctime, ino, size, blocks.</summary>
    public const uint STATX_BASIC_STATS = 0x7ff;

    /// <summary>utimensat: leave this timestamp as it is.</summary>
    public const long UTIME_OMIT = (1L << 30) - 2;

    [LibraryImport(Library, EntryPoint = "statx", StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller), SetLastError = true)]
    public static partial int Statx(int directoryFd, string path, int flags, uint mask, StatxBuffer* buffer);

    [LibraryImport(Library, EntryPoint = "lgetxattr", StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller), SetLastError = true)]
    public static partial nint LGetXattr(string path, string name, byte* value, nuint size);

    [LibraryImport(Library, EntryPoint = "readlink", StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller), SetLastError = true)]
    public static partial nint ReadLink(string path, byte* buffer, nuint size);

    [LibraryImport(Library, EntryPoint = "utimensat", StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller), SetLastError = true)]
    public static partial int UtimensAt(int directoryFd, string path, TimeSpec* times, int flags);

    [LibraryImport(Library, EntryPoint = "mkdir", StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller), SetLastError = true)]
    public static partial int MkDir(string path, uint mode);

    [LibraryImport(Library, EntryPoint = "chmod", StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller), SetLastError = true)]
    public static partial int ChMod(string path, uint mode);

    [LibraryImport(Library, EntryPoint = "lchown", StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller), SetLastError = true)]
    public static partial int LChown(string path, uint uid, uint gid);

    [LibraryImport(Library, EntryPoint = "symlink", StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller), SetLastError = true)]
    public static partial int SymLink(string target, string linkPath);

    [LibraryImport(Library, EntryPoint = "link", StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller), SetLastError = true)]
    public static partial int Link(string existing, string newPath);

    [LibraryImport(Library, EntryPoint = "rename", StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller), SetLastError = true)]
    public static partial int Rename(string from, string to);

    [LibraryImport(Library, EntryPoint = "unlink", StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller), SetLastError = true)]
    public static partial int Unlink(string path);

    /// <summary>opendir(3); null (errno set) when it fails.</summary>
    [LibraryImport(Library, EntryPoint = "opendir", StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller), SetLastError = true)]
    public static partial nint OpenDir(string path);

    /// <summary>readdir(3): the next entry, or null at the end (errno 0) or on an error (errno set).</summary>
    [LibraryImport(Library, EntryPoint = "readdir", SetLastError = true)]
    public static partial Dirent* ReadDir(nint directory);

    [LibraryImport(Library, EntryPoint = "closedir", SetLastError = true)]
    public static partial int CloseDir(nint directory);

    [LibraryImport(Library, EntryPoint = "rmdir", StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller), SetLastError = true)]
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

    /// <summary>
    /// The start of glibc's struct dirent on 64-bit Linux (the same as the kernel's linux_dirent64): the name is a
    /// NUL-terminated byte string at offset 19 (see <see cref="NameOffset"/>).
    /// </summary>
    [StructLayout(LayoutKind.Explicit, Size = 24)]
    public struct Dirent
    {
        /// <summary>Where d_name starts, after d_ino (8), d_off (8), d_reclen (2) and d_type (1).</summary>
        public const int NameOffset = 19;

        [FieldOffset(0)]
        public ulong Ino;

        [FieldOffset(18)]
        public byte Type;
    }

    /// <summary>struct timespec on 64-bit Linux.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
