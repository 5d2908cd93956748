using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Microsoft.Win32.SafeHandles;

namespace Cleanroom.Policy.Files;

/// <summary>
/// The few Linux calls a safe policy read needs and .NET does not offer: <c>openat</c> with <c>O_NOFOLLOW</c> and
/// <c>O_NONBLOCK</c> (.NET always follows links, and opening a FIFO blocks), and <c>statx</c>, whose structure has
/// the same layout on every architecture. Source-generated imports, so they work under NativeAOT.
/// </summary>
[SupportedOSPlatform("linux")]
internal static partial class LinuxFileCalls
{
    public const int ENOENT = 2;
    public const int ENOTDIR = 20;
    public const int ELOOP = 40;

    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const int AtEmptyPath = 0x1000;
    private const uint StatxType = 0x1;
    private const uint StatxIno = 0x100;
    private const uint StatxSize = 0x200;

    private const int ReadOnly = 0;
    private const int NoControllingTerminal = 0x100;
    private const int NonBlocking = 0x800;
    private const int CloseOnExec = 0x80000;

    // O_DIRECTORY and O_NOFOLLOW are the two flags whose values differ between Linux architectures.
    private static readonly bool UsesArmFlagValues = RuntimeInformation.ProcessArchitecture
        is Architecture.Arm or Architecture.Arm64 or Architecture.Ppc64le or Architecture.Armv6;

    private static int OnlyDirectory => UsesArmFlagValues ? 0x4000 : 0x10000;

    private static int NoFollow => UsesArmFlagValues ? 0x8000 : 0x20000;

    /// <summary>Opens a directory by its full path, following links: the caller trusts this path.</summary>
    public static SafeFileHandle OpenTrustedDirectory(string path, out int errno) =>
        Result(Openat(AtFdCwd, path, ReadOnly | OnlyDirectory | CloseOnExec, 0), out errno);

    /// <summary>Opens the directory <paramref name="name"/> inside <paramref name="parent"/>; a symbolic link fails.</summary>
    public static SafeFileHandle OpenDirectoryNoFollow(SafeFileHandle parent, string name, out int errno) =>
        Result(Openat(Fd(parent), name, ReadOnly | OnlyDirectory | NoFollow | CloseOnExec, 0), out errno);

    /// <summary>
    /// Opens <paramref name="name"/> inside <paramref name="parent"/> for reading without following a link and
    /// without blocking (a FIFO opens at once instead of waiting for a writer).
    /// </summary>
    public static SafeFileHandle OpenFileNoFollow(SafeFileHandle parent, string name, out int errno) =>
        Result(Openat(Fd(parent), name, ReadOnly | NoFollow | NonBlocking | NoControllingTerminal | CloseOnExec, 0), out errno);

    /// <summary>What <paramref name="name"/> inside <paramref name="parent"/> is, without following it; null with errno on failure.</summary>
    public static FileNode? StatNoFollow(SafeFileHandle parent, string name, out int errno) =>
        Stat(Fd(parent), name, AtSymlinkNoFollow, out errno);

    /// <summary>What an open file is.</summary>
    public static FileNode? StatOpen(SafeFileHandle file, out int errno) =>
        Stat(Fd(file), string.Empty, AtEmptyPath, out errno);

    /// <summary>The system's description of <paramref name="errno"/>, e.g. "Permission denied".</summary>
    public static string Describe(int errno) => Marshal.GetPInvokeErrorMessage(errno);

    private static FileNode? Stat(int directoryFd, string path, int flags, out int errno)
    {
        if (Statx(directoryFd, path, flags, StatxType | StatxIno | StatxSize, out var buffer) != 0)
        {
            errno = Marshal.GetLastPInvokeError();
            return null;
        }

        errno = 0;
        return new FileNode(FileNode.KindOf(buffer.Mode), buffer.DeviceMajor, buffer.DeviceMinor, buffer.Inode, (long)buffer.Size);
    }

    private static SafeFileHandle Result(int fd, out int errno)
    {
        errno = fd < 0 ? Marshal.GetLastPInvokeError() : 0;
        return new SafeFileHandle(fd, ownsHandle: true);
    }

    private static int Fd(SafeFileHandle handle) => (int)handle.DangerousGetHandle();

    [LibraryImport("libc", EntryPoint = "openat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Openat(int directoryFd, string path, int flags, uint mode);

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Statx(int directoryFd, string path, int flags, uint mask, out StatxBuffer buffer);

    /// <summary><c>struct statx</c>: 256 bytes, the same on every architecture; only the fields used are named.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 256)]
    private struct StatxBuffer
    {
        [FieldOffset(28)]
        public ushort Mode;

        [FieldOffset(32)]
        public ulong Inode;

        [FieldOffset(40)]
        public ulong Size;

        [FieldOffset(136)]
        public uint DeviceMajor;

        [FieldOffset(140)]
        public uint DeviceMinor;
    }
}
