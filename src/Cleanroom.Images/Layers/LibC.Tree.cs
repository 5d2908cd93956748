using System.Runtime.InteropServices;
using Cleanroom.Escaping;
using Microsoft.Win32.SafeHandles;

namespace Cleanroom.Images.Layers;

/// <summary>
/// The calls that stand in for .NET's path APIs (directory listing, recursive delete, opening files, stat) wherever
/// a name may not be valid UTF-8: .NET would decode such a name lossily and then name some other file, or none.
/// Every path goes through <see cref="FileNameMarshaller"/>, and no call here follows a final symlink.
/// </summary>
internal static unsafe partial class LibC
{
    private const uint StatxBasic = 0x7FF; // STATX_BASIC_STATS
    private const int OpenReadOnly = 0;
    private const int OpenWriteOnly = 0x1;
    private const int OpenCreate = 0x40;
    private const int OpenExclusive = 0x80;
    private const int OpenCloseOnExec = 0x80000;

    // The only open flags that differ between the architectures this runs on (x86-64 and arm64).
    private static readonly int OpenDirectory = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 0x4000 : 0x10000;
    private static readonly int OpenNoFollow = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 0x8000 : 0x20000;

    /// <summary>The names in the directory at <paramref name="path"/> (not "." or ".."), in directory order.</summary>
    /// <exception cref="IOException">It is not a directory (a symlink to one included), or cannot be read.</exception>
    public static List<string> ListDirectory(string path)
    {
        var fd = Open(path, OpenReadOnly | OpenDirectory | OpenNoFollow | OpenCloseOnExec, 0);
        if (fd < 0)
        {
            throw Failure("opendir", path, Marshal.GetLastPInvokeError());
        }

        var directory = FdOpenDir(fd);
        if (directory == null)
        {
            var errno = Marshal.GetLastPInvokeError();
            Close(fd);
            throw Failure("opendir", path, errno);
        }

        try
        {
            var names = new List<string>();
            while (true)
            {
                var entry = ReadDir(directory);
                if (entry == null)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    return errno == 0 ? names : throw Failure("readdir", path, errno);
                }

                // struct dirent on 64-bit Linux: d_ino (8), d_off (8), d_reclen (2), d_type (1), then the NUL-terminated name.
                var name = MemoryMarshal.CreateReadOnlySpanFromNullTerminated(entry + 19);
                if (!name.SequenceEqual("."u8) && !name.SequenceEqual(".."u8))
                {
                    names.Add(FileNameBytes.Decode(name));
                }
            }
        }
        finally
        {
            CloseDir(directory);
        }
    }

    /// <summary>
    /// Removes the node at <paramref name="path"/>: a directory with everything below it (symlinks met are unlinked,
    /// never followed), anything else itself. Nothing there is not an error.
    /// </summary>
    public static void RemoveTree(string path)
    {
        switch (GetKind(path))
        {
            case NodeKind.Missing:
                return;
            case NodeKind.Directory:
                foreach (var name in ListDirectory(path))
                {
                    RemoveTree(string.Concat(path, "/", name));
                }

                Check(Rmdir(path), "rmdir", path);
                return;
            default:
                Unlink(path);
                return;
        }
    }

    /// <summary>Opens the regular file at <paramref name="path"/> for reading; a symlink there is refused (ELOOP).</summary>
    public static SafeFileHandle OpenRead(string path) => OpenHandle(path, OpenReadOnly | OpenNoFollow | OpenCloseOnExec, 0);

    /// <summary>
    /// Creates a new file at <paramref name="path"/> for writing (O_CREAT|O_EXCL: any node already there, a symlink
    /// included, makes it fail, so it never writes through one).
    /// </summary>
    public static SafeFileHandle CreateNew(string path, uint mode) =>
        OpenHandle(path, OpenWriteOnly | OpenCreate | OpenExclusive | OpenNoFollow | OpenCloseOnExec, mode);

    /// <summary>lstat of <paramref name="path"/>: type, mode, size, mtime and owner.</summary>
    public static NodeStatus GetStatus(string path)
    {
        if (Statx(AtFdCwd, path, AtSymlinkNoFollow, StatxBasic, out var buffer) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            return errno == ENOENT ? new NodeStatus(NodeKind.Missing, 0, 0, DateTimeOffset.UnixEpoch, 0, 0) : throw Failure("lstat", path, errno);
        }

        var kind = (buffer.Mode & FileTypeMask) switch
        {
            TypeDirectory => NodeKind.Directory,
            TypeSymlink => NodeKind.Symlink,
            TypeRegular => NodeKind.RegularFile,
            _ => NodeKind.Special,
        };
        var time = DateTimeOffset.FromUnixTimeSeconds(buffer.ModificationSeconds).AddTicks(buffer.ModificationNanoseconds / 100);
        return new NodeStatus(kind, buffer.Mode & 0xFFFu, (long)buffer.Size, time, (int)buffer.Uid, (int)buffer.Gid);
    }

    private static SafeFileHandle OpenHandle(string path, int flags, uint mode)
    {
        var fd = Open(path, flags, mode);
        return fd < 0 ? throw Failure("open", path, Marshal.GetLastPInvokeError()) : new SafeFileHandle(fd, ownsHandle: true);
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller), SetLastError = true)]
    private static partial int Open(string path, int flags, uint mode);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "fdopendir", SetLastError = true)]
    private static partial void* FdOpenDir(int fd);

    [LibraryImport("libc", EntryPoint = "readdir", SetLastError = true)]
    private static partial byte* ReadDir(void* directory);

    [LibraryImport("libc", EntryPoint = "closedir", SetLastError = true)]
    private static partial int CloseDir(void* directory);

    [LibraryImport("libc", EntryPoint = "rmdir", StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller), SetLastError = true)]
    private static partial int Rmdir(string path);
}
