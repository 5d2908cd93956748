using Cleanroom.GuestAgent.Native;

namespace Cleanroom.GuestAgent.Tools;

/// <summary>
/// An lstat (statx without following symlinks) of one path: everything the tools put in an archive or a stat line.
/// </summary>
internal readonly record struct FileStatus(
    FileType Type,
    uint Mode,
    uint Uid,
    uint Gid,
    long Size,
    long MTimeSeconds,
    uint MTimeNanoseconds,
    ulong Device,
    ulong Inode,
    uint Links,
    uint RDevMajor,
    uint RDevMinor)
{
    /// <summary>Permission bits plus set-uid, set-gid and sticky (the low 12 bits of st_mode).</summary>
    public uint Permissions => Mode & 0xFFF;

    /// <summary>How overlayfs marks a deleted lower entry in its upper directory: a character device 0:0.</summary>
    public bool IsOverlayWhiteout => Type == FileType.CharacterDevice && RDevMajor == 0 && RDevMinor == 0;

    public long MTimeUnixMilliseconds => (MTimeSeconds * 1000) + (MTimeNanoseconds / 1_000_000);

    /// <summary>The modification time at the 100 ns precision of <see cref="DateTimeOffset"/>.</summary>
    public DateTimeOffset ModificationTime =>
        DateTimeOffset.UnixEpoch.AddTicks((MTimeSeconds * TimeSpan.TicksPerSecond) + (MTimeNanoseconds / 100));

    /// <summary>lstat of <paramref name="path"/>; null (with errno) when it fails.</summary>
    public static unsafe FileStatus? TryGet(string path, out int errno)
    {
        LibC.StatxBuffer buffer;
        if (LibC.Statx(LibC.AT_FDCWD, path, LibC.AT_SYMLINK_NOFOLLOW, LibC.STATX_BASIC_STATS, &buffer) != 0)
        {
            errno = Errno.Last;
            return null;
        }

        errno = 0;
        return new FileStatus(
            TypeOf(buffer.Mode),
            buffer.Mode,
            buffer.Uid,
            buffer.Gid,
            (long)buffer.Size,
            buffer.MTimeSeconds,
            buffer.MTimeNanoseconds,
            ((ulong)buffer.DevMajor << 32) | buffer.DevMinor,
            buffer.Ino,
            buffer.NLink,
            buffer.RDevMajor,
            buffer.RDevMinor);
    }

    /// <summary>lstat of <paramref name="path"/>, or a <see cref="ToolException"/> saying why not.</summary>
    public static FileStatus Get(string path) =>
        TryGet(path, out var errno) ?? throw ToolException.FromErrno(errno, "stat", path);

    private static FileType TypeOf(uint mode) => (mode & 0xF000) switch
    {
        0x8000 => FileType.Regular,
        0x4000 => FileType.Directory,
        0xA000 => FileType.Symlink,
        0x2000 => FileType.CharacterDevice,
        0x6000 => FileType.BlockDevice,
        0x1000 => FileType.Fifo,
        0xC000 => FileType.Socket,
        _ => FileType.Unknown,
    };
}
