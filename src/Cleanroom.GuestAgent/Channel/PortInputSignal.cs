using Cleanroom.GuestAgent.Native;

namespace Cleanroom.GuestAgent.Channel;

/// <summary>
/// Tells a thread waiting to read the port that input arrived, without putting it on the port's wait queue. Linux's
/// virtio_console wakes that one queue for input and for every output buffer the host has taken, so a reader asleep
/// in poll() or read() is woken (and put back to sleep in the kernel) all through a large output stream: the C
/// writer of bench/throughput with such a reader beside it fell from 427 to 257 MiB/s under TCG, the guest's CPU per
/// MiB rose from 4.8 to 7.0 ms, and the agent's reader thread switched 22 times per MiB it sent. The driver sends the
/// port's owner a signal for input and for the host connecting or leaving only, so the reader waits for that instead:
/// the port is in signal-driven mode (O_ASYNC) with SIGURG as its signal, directed at the waiting thread, which
/// blocks it and reads it from a signalfd. SIGURG because its default action is to ignore it: one that reached a
/// thread not blocking it would be dropped, never end the agent (PID 1).
/// </summary>
internal sealed unsafe class PortInputSignal : IDisposable
{
    private const int SFD_NONBLOCK = 0x800;
    private const int SFD_CLOEXEC = 0x80000;

    /// <summary>struct signalfd_siginfo, the unit a signalfd reads in.</summary>
    private const int SignalInfoSize = 128;

    // The mask is per thread and stays set: a thread that waited once keeps SIGURG blocked (children are spawned with
    // an empty mask, so none inherits it).
    [ThreadStatic]
    private static bool t_blocked;

    private readonly int _port;
    private int _fd;

    private PortInputSignal(int port, int fd)
    {
        _port = port;
        _fd = fd;
    }

    /// <summary>The descriptor to poll: readable once input arrived for the thread that last claimed the port.</summary>
    public int Fd => _fd;

    /// <summary>Puts <paramref name="port"/> in signal-driven mode; no signal is sent until a thread claims it.</summary>
    public static PortInputSignal Attach(int port)
    {
        var set = stackalloc byte[LibC.SigSetSize];
        OnlyTheSignal(set);
        var fd = LibC.SignalFd(-1, set, SFD_NONBLOCK | SFD_CLOEXEC);
        if (fd < 0)
        {
            throw new IOException("signalfd failed: " + Errno.DescribeLast());
        }

        try
        {
            if (LibC.Fcntl(port, LibC.F_SETSIG, LibC.SIGURG) < 0)
            {
                throw new IOException("fcntl(F_SETSIG) on the port failed: " + Errno.DescribeLast());
            }

            FileDescriptors.AddStatusFlags(port, LibC.O_ASYNC, "O_ASYNC");
        }
        catch
        {
            LibC.Close(fd);
            throw;
        }

        return new PortInputSignal(port, fd);
    }

    /// <summary>
    /// Directs the port's signal at the calling thread, which then polls <see cref="Fd"/>. Claim before the read that
    /// finds nothing: input arriving after the claim signals this thread, input before it is found by that read.
    /// </summary>
    public void Claim()
    {
        if (!t_blocked)
        {
            var set = stackalloc byte[LibC.SigSetSize];
            OnlyTheSignal(set);
            var error = LibC.PthreadSigMask(LibC.SIG_BLOCK, set, null);
            if (error != 0)
            {
                throw new IOException("pthread_sigmask failed: " + Errno.Describe(error));
            }

            t_blocked = true;
        }

        var owner = new LibC.OwnerEx { Type = LibC.F_OWNER_TID, Pid = LibC.GetTid() };
        if (LibC.Fcntl(_port, LibC.F_SETOWN_EX, &owner) < 0)
        {
            throw new IOException("fcntl(F_SETOWN_EX) on the port failed: " + Errno.DescribeLast());
        }
    }

    /// <summary>Consumes the calling thread's pending signal (the signal is not queued: one stands for any number).</summary>
    public void Drain()
    {
        var info = stackalloc byte[SignalInfoSize];
        while (LibC.Read(_fd, info, SignalInfoSize) > 0)
        {
        }
    }

    public void Dispose() => FileDescriptors.CloseQuietly(Interlocked.Exchange(ref _fd, -1));

    /// <summary>Fills a sigset_t with the port's signal alone.</summary>
    private static void OnlyTheSignal(byte* set)
    {
        _ = LibC.SigEmptySet(set);
        _ = LibC.SigAddSet(set, LibC.SIGURG);
    }
}
