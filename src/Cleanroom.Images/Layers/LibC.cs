using System.Runtime.InteropServices;
using Cleanroom.Escaping;
using Microsoft.Win32.SafeHandles;

namespace Cleanroom.Images.Layers;

/// <summary>
/// The file-system calls .NET has no API for, or whose .NET form follows symlinks: ownership, device nodes, hard
/// links, extended attributes, timestamps without following, and an lstat that reports the node type. Every path
/// given here has had its parent directories resolved inside the image root by <see cref="ImageTree"/>; these calls
/// never follow a final symlink.
/// </summary>
/// <remarks>
/// Paths are marshalled with <see cref="FileNameMarshaller"/>, so a name that is not valid UTF-8 (carried with escaped
/// bytes, see <see cref="FileNameBytes"/>) reaches the kernel as its exact bytes; plain names marshal as UTF-8 would.
/// </remarks>
internal static unsafe partial class LibC
{
    public const int ENOENT = 2;
    public const int EPERM = 1;
    public const int ENOTSUP = 95;
    public const int EMLINK = 31;

    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxType = 0x1;
    private const uint StatxOwner = 0x18; // STATX_UID | STATX_GID
    private const uint RenameNoReplace = 0x1;
    private const uint FileTypeMask = 0xF000;

    public const uint TypeFifo = 0x1000;
    public const uint TypeCharacterDevice = 0x2000;
    public const uint TypeDirectory = 0x4000;
    public const uint TypeBlockDevice = 0x6000;
    public const uint TypeRegular = 0x8000;
    public const uint TypeSymlink = 0xA000;

    /// <summary>The node at <paramref name="path"/>, without following it if it is a symlink.</summary>
    public static NodeKind GetKind(string path)
    {
        if (Statx(AtFdCwd, path, AtSymlinkNoFollow, StatxType, out var buffer) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            return errno == ENOENT ? NodeKind.Missing : throw Failure("lstat", path, errno);
        }

        return (buffer.Mode & FileTypeMask) switch
        {
            TypeDirectory => NodeKind.Directory,
            TypeSymlink => NodeKind.Symlink,
            TypeRegular => NodeKind.RegularFile,
            _ => NodeKind.Special,
        };
    }

    /// <summary>The owner of the node at <paramref name="path"/>, without following it if it is a symlink.</summary>
    public static (int Uid, int Gid) GetOwner(string path)
    {
        if (Statx(AtFdCwd, path, AtSymlinkNoFollow, StatxOwner, out var buffer) != 0)
        {
            throw Failure("lstat", path, Marshal.GetLastPInvokeError());
        }

        return ((int)buffer.Uid, (int)buffer.Gid);
    }

    /// <summary>
    /// rename(2), or renameat2 with RENAME_NOREPLACE when <paramref name="replace"/> is false, so an existing node is
    /// never silently overwritten. Neither follows a symlink at either path. Returns 0 or the errno.
    /// </summary>
    public static int TryRename(string from, string to, bool replace) =>
        Renameat2(AtFdCwd, from, AtFdCwd, to, replace ? 0 : RenameNoReplace) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>mkdir, then chmod: mkdir's mode is filtered through the process umask, the image's modes must not be.</summary>
    public static void MakeDirectory(string path, uint mode)
    {
        Check(Mkdir(path, mode), "mkdir", path);
        Check(Chmod(path, mode), "chmod", path);
    }

    public static void Unlink(string path) => Check(UnlinkCore(path), "unlink", path);

    public static void Symlink(string target, string path) => Check(SymlinkCore(target, path), "symlink", path);

    public static void MakeNode(string path, uint mode, ulong device) => Check(Mknod(path, mode, device), "mknod", path);

    /// <summary>
    /// Hard-links <paramref name="newPath"/> to <paramref name="existing"/> without following <paramref name="existing"/>
    /// if it is a symlink (linkat with no flags). Returns 0 or the errno, since some failures are the layer's fault.
    /// </summary>
    public static int TryLink(string existing, string newPath) =>
        Linkat(AtFdCwd, existing, AtFdCwd, newPath, 0) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>The symlink's target exactly as stored (bytes that are not UTF-8 escaped, see <see cref="FileNameBytes"/>).</summary>
    public static string ReadLink(string path)
    {
        // A target can be at most PATH_MAX (4096) bytes; one more tells truncation apart from a full-length target.
        Span<byte> buffer = stackalloc byte[4097];
        nint length;
        fixed (byte* start = buffer)
        {
            length = Readlink(path, start, (nuint)buffer.Length);
        }

        if (length < 0)
        {
            throw Failure("readlink", path, Marshal.GetLastPInvokeError());
        }

        return length >= buffer.Length
            ? throw new IOException($"readlink '{UntrustedText.Escape(path)}': the target is longer than 4096 bytes")
            : FileNameBytes.Decode(buffer[..(int)length]);
    }

    public static void ChangeOwner(string path, int uid, int gid) => Check(Lchown(path, (uint)uid, (uint)gid), "lchown", path);

    public static void ChangeOwner(SafeFileHandle file, int uid, int gid, string path) => Check(Fchown(file, (uint)uid, (uint)gid), "fchown", path);

    /// <summary>chmod follows symlinks; callers only use it on nodes they just made or found not to be symlinks.</summary>
    public static void ChangeMode(string path, uint mode) => Check(Chmod(path, mode), "chmod", path);

    public static void ChangeMode(SafeFileHandle file, uint mode, string path) => Check(Fchmod(file, mode), "fchmod", path);

    /// <summary>Sets access and modification time to <paramref name="time"/>, on the symlink itself if it is one.</summary>
    public static void SetTimes(string path, DateTimeOffset time)
    {
        var times = stackalloc Timespec[2];
        times[0] = times[1] = Timespec.From(time);
        Check(Utimensat(AtFdCwd, path, times, AtSymlinkNoFollow), "utimensat", path);
    }

    public static void SetTimes(SafeFileHandle file, DateTimeOffset time, string path)
    {
        var times = stackalloc Timespec[2];
        times[0] = times[1] = Timespec.From(time);
        Check(Futimens(file, times), "futimens", path);
    }

    /// <summary>lsetxattr; returns 0 or the errno, since callers decide which failures matter.</summary>
    public static int TrySetExtendedAttribute(string path, string name, ReadOnlySpan<byte> value)
    {
        fixed (byte* data = value)
        {
            return Lsetxattr(path, name, data, (nuint)value.Length, 0) == 0 ? 0 : Marshal.GetLastPInvokeError();
        }
    }

    public static int TrySetExtendedAttribute(SafeFileHandle file, string name, ReadOnlySpan<byte> value)
    {
        fixed (byte* data = value)
        {
            return Fsetxattr(file, name, data, (nuint)value.Length, 0) == 0 ? 0 : Marshal.GetLastPInvokeError();
        }
    }

    /// <summary>glibc's makedev for Linux's 32-bit major and minor numbers.</summary>
    public static ulong MakeDevice(uint major, uint minor) =>
        ((ulong)(major & 0xFFFFF000) << 32) | ((ulong)(major & 0xFFF) << 8) | ((ulong)(minor & 0xFFFFFF00) << 12) | (minor & 0xFF);

    public static string Describe(int errno) => Marshal.GetPInvokeErrorMessage(errno);

    private static void Check(int result, string operation, string path)
    {
        if (result != 0)
        {
            throw Failure(operation, path, Marshal.GetLastPInvokeError());
        }
    }

    private static IOException Failure(string operation, string path, int errno) =>
        new($"{operation} '{UntrustedText.Escape(path)}' failed: {Describe(errno)}");

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller), SetLastError = true)]
    private static partial int Statx(int directoryFd, string path, int flags, uint mask, out StatxBuffer buffer);

    [LibraryImport("libc", EntryPoint = "renameat2", StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller), SetLastError = true)]
    private static partial int Renameat2(int oldDirectoryFd, string oldPath, int newDirectoryFd, string newPath, uint flags);

    [LibraryImport("libc", EntryPoint = "mkdir", StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller), SetLastError = true)]
    private static partial int Mkdir(string path, uint mode);

    [LibraryImport("libc", EntryPoint = "unlink", StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller), SetLastError = true)]
    private static partial int UnlinkCore(string path);

    [LibraryImport("libc", EntryPoint = "symlink", StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller), SetLastError = true)]
    private static partial int SymlinkCore(string target, string path);

    [LibraryImport("libc", EntryPoint = "linkat", StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller), SetLastError = true)]
    private static partial int Linkat(int oldDirectoryFd, string oldPath, int newDirectoryFd, string newPath, int flags);

    [LibraryImport("libc", EntryPoint = "mknod", StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller), SetLastError = true)]
    private static partial int Mknod(string path, uint mode, ulong device);

    [LibraryImport("libc", EntryPoint = "readlink", StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller), SetLastError = true)]
    private static partial nint Readlink(string path, byte* buffer, nuint size);

    [LibraryImport("libc", EntryPoint = "lchown", StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller), SetLastError = true)]
    private static partial int Lchown(string path, uint uid, uint gid);

    [LibraryImport("libc", EntryPoint = "fchown", SetLastError = true)]
    private static partial int Fchown(SafeFileHandle file, uint uid, uint gid);

    [LibraryImport("libc", EntryPoint = "chmod", StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller), SetLastError = true)]
    private static partial int Chmod(string path, uint mode);

    [LibraryImport("libc", EntryPoint = "fchmod", SetLastError = true)]
    private static partial int Fchmod(SafeFileHandle file, uint mode);

    [LibraryImport("libc", EntryPoint = "utimensat", StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller), SetLastError = true)]
    private static partial int Utimensat(int directoryFd, string path, Timespec* times, int flags);

    [LibraryImport("libc", EntryPoint = "futimens", SetLastError = true)]
    private static partial int Futimens(SafeFileHandle file, Timespec* times);

    [LibraryImport("libc", EntryPoint = "lsetxattr", StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller), SetLastError = true)]
    private static partial int Lsetxattr(string path, string name, byte* value, nuint size, int flags);

    [LibraryImport("libc", EntryPoint = "fsetxattr", StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller), SetLastError = true)]
    private static partial int Fsetxattr(SafeFileHandle file, string name, byte* value, nuint size, int flags);
}
