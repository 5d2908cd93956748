using Cleanroom.Escaping;
using Cleanroom.GuestAgent.Native;
using Microsoft.Win32.SafeHandles;

namespace Cleanroom.GuestAgent.Tools;

/// <summary>
/// The file-system calls of the tools, none of which follows a symlink in the last component, each throwing a
/// <see cref="ToolException"/> that names the path. Every path goes to libc through
/// <see cref="FileNameMarshaller"/>, never through .NET's file APIs, which would turn a name's bytes that are not
/// UTF-8 into U+FFFD and so name another file (see <see cref="FileNameBytes"/>).
/// </summary>
internal static unsafe class FileOps
{
    private const int ENODATA = 61;
    private const int EOPNOTSUPP = 95;
    private const int PathMax = 4096;

    /// <summary>A symlink's target, verbatim (bytes that are not UTF-8 as <see cref="FileNameBytes"/> carries them).</summary>
    public static string ReadLink(string path)
    {
        var buffer = stackalloc byte[PathMax + 1];
        var length = LibC.ReadLink(path, buffer, PathMax + 1);
        if (length < 0)
        {
            throw ToolException.FromErrno(Errno.Last, "readlink", path);
        }

        if (length > PathMax)
        {
            throw new ToolException($"readlink {UntrustedText.Escape(path)}: the target is longer than {PathMax} bytes");
        }

        return FileNameBytes.Decode(new ReadOnlySpan<byte>(buffer, (int)length));
    }

    /// <summary>
    /// Opens an existing regular file for reading. O_NOFOLLOW: the caller saw a regular file with lstat, and a
    /// symlink put there since must not be followed.
    /// </summary>
    public static FileStream OpenRead(string path) =>
        Stream(Open(path, LibC.O_RDONLY | LibC.O_CLOEXEC | LibC.O_NOFOLLOW, 0), FileAccess.Read);

    /// <summary>Creates a new file for writing (mode 0600 until the caller sets the real one); fails if the name exists.</summary>
    public static FileStream CreateNew(string path) =>
        Stream(Open(path, LibC.O_WRONLY | LibC.O_CREAT | LibC.O_EXCL | LibC.O_CLOEXEC | LibC.O_NOFOLLOW, 0x180), FileAccess.Write);

    /// <summary>
    /// Creates <paramref name="path"/> and any missing parents (mode 0755), like <c>mkdir -p</c>; a component that
    /// already exists may be a symlink to a directory. Fails when the path is not a directory in the end.
    /// </summary>
    public static void MakeDirectories(string path)
    {
        var full = Path.GetFullPath(path);
        for (var slash = full.IndexOf('/', 1); ; slash = full.IndexOf('/', slash + 1))
        {
            var prefix = slash < 0 ? full : full[..slash];
            if (prefix.Length > 0 && LibC.MkDir(prefix, 0x1ED) != 0 && Errno.Last != Errno.EEXIST)
            {
                throw ToolException.FromErrno(Errno.Last, "mkdir", prefix);
            }

            if (slash < 0)
            {
                break;
            }
        }

        // "/." follows a symlinked last component, as the entries written under it will.
        var status = FileStatus.TryGet(full == "/" ? "/" : full + "/.", out var errno);
        if (status is not { Type: FileType.Directory })
        {
            throw status is null ? ToolException.FromErrno(errno, "mkdir", full) : new ToolException($"not a directory: {UntrustedText.Escape(full)}");
        }
    }

    /// <summary>An extended attribute's value, or null when the file does not have it (or the file system has none).</summary>
    public static byte[]? GetXattr(string path, string name)
    {
        var buffer = stackalloc byte[256];
        var length = LibC.LGetXattr(path, name, buffer, 256);
        if (length < 0)
        {
            var errno = Errno.Last;
            return errno is ENODATA or EOPNOTSUPP ? null : throw ToolException.FromErrno(errno, $"getxattr {UntrustedText.Escape(name)}", path);
        }

        return new ReadOnlySpan<byte>(buffer, (int)length).ToArray();
    }

    public static void MakeDirectory(string path, uint mode) => Check(LibC.MkDir(path, mode), "mkdir", path);

    public static void ChangeMode(string path, uint mode) => Check(LibC.ChMod(path, mode), "chmod", path);

    /// <summary>lchown(2): a symlink itself, never its target.</summary>
    public static void ChangeOwner(string path, uint uid, uint gid) => Check(LibC.LChown(path, uid, gid), "chown", path);

    public static void Symlink(string target, string path) => Check(LibC.SymLink(target, path), "symlink", path);

    public static void HardLink(string existing, string path) => Check(LibC.Link(existing, path), "link", path);

    /// <summary>rename(2): atomically replaces <paramref name="to"/> unless it is a directory.</summary>
    public static void Rename(string from, string to) => Check(LibC.Rename(from, to), "rename", to);

    public static void Unlink(string path) => Check(LibC.Unlink(path), "unlink", path);

    public static void RemoveDirectory(string path) => Check(LibC.RmDir(path), "rmdir", path);

    /// <summary>Sets the modification time (of a symlink itself, not its target); the access time is left alone.</summary>
    public static void SetModificationTime(string path, DateTimeOffset time)
    {
        var ticks = time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        var times = stackalloc LibC.TimeSpec[2];
        times[0] = new LibC.TimeSpec { Seconds = 0, Nanoseconds = LibC.UTIME_OMIT };
        times[1] = new LibC.TimeSpec
        {
            Seconds = Math.DivRem(ticks, TimeSpan.TicksPerSecond, out var remainder) - (remainder < 0 ? 1 : 0),
            Nanoseconds = (remainder < 0 ? remainder + TimeSpan.TicksPerSecond : remainder) * 100,
        };
        Check(LibC.UtimensAt(LibC.AT_FDCWD, path, times, LibC.AT_SYMLINK_NOFOLLOW), "utimensat", path);
    }

    /// <summary>Removes a file, a symlink or a whole directory tree; never follows a symlink.</summary>
    public static void RemoveTree(string path)
    {
        var status = FileStatus.Get(path);
        if (status.Type != FileType.Directory)
        {
            Unlink(path);
            return;
        }

        foreach (var child in DirectoryListing.Children(path))
        {
            RemoveTree(child.FullPath);
        }

        RemoveDirectory(path);
    }

    private static int Open(string path, int flags, int mode)
    {
        var fd = LibC.Open(path, flags, mode);
        return fd >= 0 ? fd : throw ToolException.FromErrno(Errno.Last, "open", path);
    }

    /// <summary>A FileStream that owns <paramref name="fd"/>; unbuffered, as the tar reader and writer copy in large blocks.</summary>
    private static FileStream Stream(int fd, FileAccess access)
    {
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            return new FileStream(handle, access, bufferSize: 0);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    private static void Check(int result, string operation, string path)
    {
        if (result != 0)
        {
            throw ToolException.FromErrno(Errno.Last, operation, path);
        }
    }
}
