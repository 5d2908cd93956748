namespace Cleanroom.GuestAgent.Native;

/// <summary>Small descriptor helpers shared by the pumps, the pty code and init.</summary>
internal static unsafe class FileDescriptors
{
    public static void CloseQuietly(int fd)
    {
        if (fd >= 0)
        {
            LibC.Close(fd);
        }
    }

    /// <summary>Both ends close-on-exec: a child only ever gets the ends that are dup2'ed onto its stdio.</summary>
    public static (int Read, int Write) CreatePipe()
    {
        var fds = stackalloc int[2];
        if (LibC.Pipe2(fds, LibC.O_CLOEXEC) != 0)
        {
            throw new IOException("pipe2 failed: " + Errno.DescribeLast());
        }

        return (fds[0], fds[1]);
    }

    /// <summary>Grows a pipe's buffer (best effort): a writer runs ahead further, and each read takes more at once.</summary>
    public static void TryGrowPipe(int fd, int bytes) => LibC.Fcntl(fd, LibC.F_SETPIPE_SZ, bytes);

    public static void SetNonBlocking(int fd) => AddStatusFlags(fd, LibC.O_NONBLOCK, "O_NONBLOCK");

    /// <summary>Sets <paramref name="flags"/> among the descriptor's status flags (F_SETFL), keeping the others.</summary>
    public static void AddStatusFlags(int fd, int flags, string name)
    {
        var current = LibC.Fcntl(fd, LibC.F_GETFL, 0);
        if (current < 0 || LibC.Fcntl(fd, LibC.F_SETFL, current | flags) < 0)
        {
            throw new IOException($"fcntl({name}) on fd {fd} failed: " + Errno.DescribeLast());
        }
    }

    /// <summary>A second close-on-exec descriptor for the same open file, so two owners can close independently.</summary>
    public static int Duplicate(int fd)
    {
        var copy = LibC.Fcntl(fd, LibC.F_DUPFD_CLOEXEC, 3);
        return copy >= 0 ? copy : throw new IOException($"dup of fd {fd} failed: " + Errno.DescribeLast());
    }

    public static bool IsOpen(int fd) => LibC.Fcntl(fd, LibC.F_GETFD, 0) >= 0;
}
