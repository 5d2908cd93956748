using System.Runtime.InteropServices;
using Cleanroom.Network.Nflog;

namespace Cleanroom.Network.Guard;

/// <summary>
/// The kernel pipe one spliced relay direction moves its bytes through (splice(2) needs a pipe on one side), raised to
/// <see cref="WantedBytes"/> so one call can move a large burst, and an eventfd that wakes the relay's poll(2) when the
/// connection is cancelled (so an idle spliced direction sleeps without a timer). All are non-blocking and close-on-exec;
/// disposing closes all three, which the owner does on every path.
/// </summary>
internal sealed partial class SplicePipe : IDisposable
{
    /// <summary>The size asked for with F_SETPIPE_SZ; the default pipe-max-size, so unprivileged hosts get it too.</summary>
    public const int WantedBytes = 1024 * 1024;

    private const int OCloexec = 0x80000;
    private const int ONonblock = 0x800;
    private const int FSetpipeSz = 1031;
    private const int FGetpipeSz = 1032;

    private SplicePipe(SafeFileDescriptor read, SafeFileDescriptor write, SafeFileDescriptor wake, int capacity)
    {
        Read = read;
        Write = write;
        Wake = wake;
        Capacity = capacity;
    }

    /// <summary>The end bytes are spliced out of.</summary>
    public SafeFileDescriptor Read { get; }

    /// <summary>The end bytes are spliced into.</summary>
    public SafeFileDescriptor Write { get; }

    /// <summary>Readable once <see cref="Signal"/> was called.</summary>
    public SafeFileDescriptor Wake { get; }

    /// <summary>The pipe's size in bytes: <see cref="WantedBytes"/>, or what the system gave when raising it was refused.</summary>
    public int Capacity { get; }

    /// <summary>A new pipe, or null when the system has no descriptors to spare (the caller keeps copying instead).</summary>
    public static unsafe SplicePipe? TryCreate()
    {
        var fds = stackalloc int[2];
        if (Pipe2(fds, OCloexec | ONonblock) != 0)
        {
            return null;
        }

        var read = new SafeFileDescriptor(fds[0]);
        var write = new SafeFileDescriptor(fds[1]);
        // Refused (EPERM) past pipe-max-size or an unprivileged user's pipe page quota: the pipe as made still works,
        // at the size it has (64 KiB, or two pages once that quota is spent), which is asked rather than assumed.
        var capacity = Fcntl(fds[1], FSetpipeSz, WantedBytes);
        if (capacity <= 0)
        {
            capacity = Fcntl(fds[1], FGetpipeSz, 0);
        }

        var wake = LinuxNative.EventFd(0, LinuxNative.EfdCloexec | LinuxNative.EfdNonblock);
        if (capacity <= 0 || wake < 0)
        {
            read.Dispose();
            write.Dispose();
            if (wake >= 0)
            {
                LinuxNative.Close(wake);
            }

            return null;
        }

        return new SplicePipe(read, write, new SafeFileDescriptor(wake), capacity);
    }

    /// <summary>Makes <see cref="Wake"/> readable. Called by the cancellation registration, never after disposal.</summary>
    public unsafe void Signal()
    {
        var one = 1UL;
        _ = LinuxNative.Write(Wake, (byte*)&one, sizeof(ulong)); // only fails when already signalled many times over
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Read.Dispose();
        Write.Dispose();
        Wake.Dispose();
    }

    [LibraryImport("libc", EntryPoint = "pipe2", SetLastError = true)]
    private static unsafe partial int Pipe2(int* fds, int flags);

    // fcntl(2) is variadic; an int third argument is passed like a fixed one on x86-64 and arm64 Linux.
    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(int fd, int command, int argument);
}
