using System.Text;
using Cleanroom.GuestAgent.Native;

namespace Cleanroom.GuestAgent.Tools;

/// <summary>
/// The file-system calls of the tools, none of which follows a symlink in the last component, each throwing a
/// <see cref="ToolException"/> that names the path.
/// </summary>
internal static unsafe class FileOps
{
    private const int ENODATA = 61;
    private const int EOPNOTSUPP = 95;
    private const int PathMax = 4096;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>A symlink's target, verbatim.</summary>
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
            throw new ToolException($"readlink {path}: the target is longer than {PathMax} bytes");
        }

        try
        {
            return StrictUtf8.GetString(buffer, (int)length);
        }
        catch (DecoderFallbackException)
        {
            throw new ToolException($"readlink {path}: the target is not valid UTF-8 (a tar written by this tool can only carry UTF-8 names)");
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
            return errno is ENODATA or EOPNOTSUPP ? null : throw ToolException.FromErrno(errno, $"getxattr {name}", path);
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
            if (child.NotUtf8)
            {
                throw new ToolException($"cannot remove {child.FullPath}: {DirectoryListing.NotUtf8}");
            }

            RemoveTree(child.FullPath);
        }

        RemoveDirectory(path);
    }

    private static void Check(int result, string operation, string path)
    {
        if (result != 0)
        {
            throw ToolException.FromErrno(Errno.Last, operation, path);
        }
    }
}
