using System.Runtime.InteropServices;

namespace Cleanroom.GuestAgent.Native;

/// <summary>Pseudo-terminal calls.</summary>
internal static unsafe partial class LibC
{
    public const nuint TIOCSWINSZ = 0x5414;

    [LibraryImport(Library, EntryPoint = "posix_openpt", SetLastError = true)]
    public static partial int PosixOpenPt(int flags);

    [LibraryImport(Library, EntryPoint = "grantpt", SetLastError = true)]
    public static partial int GrantPt(int fd);

    [LibraryImport(Library, EntryPoint = "unlockpt", SetLastError = true)]
    public static partial int UnlockPt(int fd);

    [LibraryImport(Library, EntryPoint = "ptsname_r")]
    public static partial int PtsNameR(int fd, byte* buffer, nuint length);

    /// <summary>struct winsize.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct WinSize
    {
        public ushort Rows;
        public ushort Cols;
        public ushort XPixels;
        public ushort YPixels;
    }
}
