using System.Runtime.InteropServices;

namespace Cleanroom.GuestAgent.Native;

/// <summary>splice(2) and the pipe's byte count, for moving a process's output to the host without copying it.</summary>
internal static unsafe partial class LibC
{
    public const uint SPLICE_F_MOVE = 1;
    public const uint SPLICE_F_NONBLOCK = 2;
    public const nuint FIONREAD = 0x541B;

    [LibraryImport(Library, EntryPoint = "splice", SetLastError = true)]
    public static partial nint Splice(int fdIn, long* offIn, int fdOut, long* offOut, nuint length, uint flags);

    /// <summary>Bytes waiting in a pipe (FIONREAD), or -1 with errno set.</summary>
    public static int BytesAvailable(int fd)
    {
        int available;
        return Ioctl(fd, FIONREAD, &available) == 0 ? available : -1;
    }
}
