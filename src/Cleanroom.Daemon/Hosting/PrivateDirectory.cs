using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Grpc.Core;

namespace Cleanroom.Daemon.Hosting;

/// <summary>
/// The daemon's own directories (the socket's and the state directory) must be its alone: a directory another user
/// made, or can write into, lets them replace the socket or read the records. Checked with lstat, so a symbolic
/// link in their place is refused too.
/// </summary>
internal static partial class PrivateDirectory
{
    private const uint TypeMask = 0xF000;
    private const uint DirectoryType = 0x4000;
    private const int ENOENT = 2;

    /// <summary>The daemon's umask: every file and directory it makes is private unless it says otherwise.</summary>
    public const uint DaemonUmask = 0x3F; // 077

    /// <summary>While the control socket is bound: 0177, so the socket is born 0600.</summary>
    public const uint SocketUmask = 0x7F;

    /// <summary>Sets the process umask and returns the previous one.</summary>
    public static uint SetUmask(uint mask) => Umask(mask);

    /// <summary>
    /// Creates <paramref name="path"/> as 0700 if missing; otherwise requires a real directory owned by this user that
    /// nobody else may write to. With <paramref name="enforcePrivate"/>, an existing one is narrowed to 0700.
    /// </summary>
    public static void Ensure(string path, string what, bool enforcePrivate)
    {
        if (Stat(path) is not { } existing)
        {
            Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            existing = Stat(path) ?? throw Refuse($"{what} {path} could not be created");
        }

        var (mode, uid) = existing;
        if ((mode & TypeMask) != DirectoryType)
        {
            throw Refuse($"{what} {path} is not a directory (a symbolic link or a file is in its place); remove it or choose another path");
        }

        var me = GetEuid();
        if (uid != me)
        {
            throw Refuse($"{what} {path} belongs to uid {uid}, not to the daemon's user (uid {me}); another user could replace what is in it. Remove it or choose another path");
        }

        if ((mode & 0x12) != 0) // group or other write
        {
            throw Refuse($"{what} {path} is writable by other users (mode {Convert.ToString(mode & 0xFFF, 8)}); make it 0700 or choose another path");
        }

        if (enforcePrivate && (mode & 0x3F) != 0)
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    /// <summary>
    /// A scratch directory emptied for this run: <paramref name="path"/> recreated as 0700, or null when it cannot be
    /// had safely (it belongs to someone else, e.g. planted in a shared /tmpfs), so the caller falls back to
    /// something slower instead of refusing to start.
    /// </summary>
    public static string? Renew(string? path)
    {
        if (path is null)
        {
            return null;
        }

        try
        {
            if (Stat(path) is not null)
            {
                Ensure(path, "the scratch directory", enforcePrivate: true);
                Directory.Delete(path, recursive: true); // removes links themselves, never what they point to
            }

            Ensure(path, "the scratch directory", enforcePrivate: true);
            return path;
        }
        catch (Exception ex) when (ex is DaemonException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static DaemonException Refuse(string message) => new(StatusCode.FailedPrecondition, ReasonCode.FailedPrecondition, message);

    /// <summary>(st_mode, st_uid) of the path itself (not a link target), or null when it does not exist.</summary>
    private static (uint Mode, uint Uid)? Stat(string path)
    {
        // struct stat on x86_64 and aarch64 glibc: st_mode is a u32 at offset 24 on x86_64 (16 on aarch64), st_uid follows.
        var buffer = new byte[256];
        if (Lstat(path, buffer) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            return errno == ENOENT ? null : throw Refuse($"cannot inspect {path}: {Marshal.GetPInvokeErrorMessage(errno)}");
        }

        var modeOffset = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 16 : 24;
        return (BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(modeOffset)), BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(modeOffset + 4)));
    }

    [LibraryImport("libc", EntryPoint = "lstat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Lstat(string path, [Out] byte[] buffer);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEuid();

    [LibraryImport("libc", EntryPoint = "umask")]
    private static partial uint Umask(uint mask);
}
