using System.Runtime.InteropServices;

namespace Cleanroom.Network.Nflog;

/// <summary>
/// A raw AF_NETLINK socket bound to a kernel-assigned port id. Sends go to the kernel; receives say who sent the
/// datagram so messages from another process can be told apart from the kernel's. The socket belongs to the network
/// namespace of the thread that created it for its whole life.
/// </summary>
internal sealed unsafe class NetlinkSocket : IDisposable
{
    private readonly SafeFileDescriptor _fd;

    private NetlinkSocket(SafeFileDescriptor fd)
    {
        _fd = fd;
    }

    /// <summary>How a wait for the next datagram ended.</summary>
    public enum WaitOutcome
    {
        Readable,
        Stopped,
        TimedOut,
    }

    /// <summary>Opens and binds a socket of the netlink <paramref name="protocol"/>. Throws <see cref="NflogException"/>.</summary>
    public static NetlinkSocket Open(int protocol)
    {
        var number = LinuxNative.Socket(LinuxNative.AfNetlink, LinuxNative.SockRaw | LinuxNative.SockCloexec, protocol);
        if (number < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new NflogException($"Could not open a netlink socket (protocol {protocol}): {LinuxNative.Describe(errno)}.", errno);
        }

        var socket = new NetlinkSocket(new SafeFileDescriptor(number));
        try
        {
            var address = new LinuxNative.SockaddrNetlink { Family = LinuxNative.AfNetlink };
            if (LinuxNative.Bind(socket._fd, &address, sizeof(LinuxNative.SockaddrNetlink)) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                throw new NflogException($"Could not bind the netlink socket: {LinuxNative.Describe(errno)}.", errno);
            }

            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Asks for a receive buffer of <paramref name="bytes"/>: SO_RCVBUFFORCE first (root may exceed the system
    /// maximum, which matters when the kernel logs in bursts), then plain SO_RCVBUF, which the kernel caps.
    /// </summary>
    public void SetReceiveBuffer(int bytes)
    {
        if (SetIntOption(LinuxNative.SolSocket, LinuxNative.SoRcvbufforce, bytes) == 0)
        {
            return;
        }

        if (SetIntOption(LinuxNative.SolSocket, LinuxNative.SoRcvbuf, bytes) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new NflogException($"Could not set the netlink receive buffer to {bytes} bytes: {LinuxNative.Describe(errno)}.", errno);
        }
    }

    /// <summary>Sends one datagram to the kernel.</summary>
    public void Send(ReadOnlySpan<byte> datagram)
    {
        var kernel = new LinuxNative.SockaddrNetlink { Family = LinuxNative.AfNetlink };
        fixed (byte* data = datagram)
        {
            nint sent;
            int errno;
            do
            {
                sent = LinuxNative.SendTo(_fd, data, datagram.Length, 0, &kernel, sizeof(LinuxNative.SockaddrNetlink));
                errno = sent < 0 ? Marshal.GetLastPInvokeError() : 0;
            }
            while (sent < 0 && errno == LinuxNative.EINTR);

            if (sent < 0)
            {
                throw new NflogException($"Could not send to the kernel over netlink: {LinuxNative.Describe(errno)}.", errno);
            }
        }
    }

    /// <summary>
    /// Waits until a datagram (or a pending error such as ENOBUFS) can be read, <paramref name="stop"/> is signalled,
    /// or <paramref name="timeoutMilliseconds"/> pass (-1: no timeout).
    /// </summary>
    /// <summary>
    /// Waits until something can be read or <paramref name="deadline"/> (an <see cref="Environment.TickCount64"/>
    /// value) passes; false when it passed. For a request's answer, which has a deadline of its own.
    /// </summary>
    public bool WaitReadableUntil(long deadline)
    {
        var left = deadline - Environment.TickCount64;
        return left > 0 && WaitReadable(stop: null, (int)Math.Min(left, int.MaxValue)) != WaitOutcome.TimedOut;
    }

    public WaitOutcome WaitReadable(StopSignal? stop, int timeoutMilliseconds)
    {
        var fds = stackalloc LinuxNative.PollFd[2];
        var addedSocket = false;
        var addedStop = false;
        try
        {
            _fd.DangerousAddRef(ref addedSocket);
            fds[0] = new LinuxNative.PollFd { Fd = _fd.Number, Events = LinuxNative.PollIn };
            var count = 1u;
            if (stop is not null)
            {
                stop.Handle.DangerousAddRef(ref addedStop);
                fds[1] = new LinuxNative.PollFd { Fd = stop.Handle.Number, Events = LinuxNative.PollIn };
                count = 2;
            }

            while (true)
            {
                var ready = LinuxNative.Poll(fds, count, timeoutMilliseconds);
                if (ready < 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno == LinuxNative.EINTR)
                    {
                        continue;
                    }

                    throw new NflogException($"poll on the netlink socket failed: {LinuxNative.Describe(errno)}.", errno);
                }

                if (ready == 0)
                {
                    return WaitOutcome.TimedOut;
                }

                if (count == 2 && fds[1].Revents != 0)
                {
                    return WaitOutcome.Stopped;
                }

                if ((fds[0].Revents & LinuxNative.PollNval) != 0)
                {
                    throw new NflogException("The netlink socket was closed under the reader.", 0);
                }

                // POLLIN, or POLLERR for a pending ENOBUFS: either way the next receive says which.
                return WaitOutcome.Readable;
            }
        }
        finally
        {
            if (addedSocket)
            {
                _fd.DangerousRelease();
            }

            if (addedStop)
            {
                stop!.Handle.DangerousRelease();
            }
        }
    }

    /// <summary>
    /// Reads one datagram without blocking. <see cref="ReceiveResult.Length"/> is the datagram's real length, which
    /// exceeds <paramref name="buffer"/> when it was truncated (MSG_TRUNC).
    /// </summary>
    public ReceiveResult TryReceive(Span<byte> buffer)
    {
        var from = default(LinuxNative.SockaddrNetlink);
        var fromLength = sizeof(LinuxNative.SockaddrNetlink);
        fixed (byte* data = buffer)
        {
            while (true)
            {
                var received = LinuxNative.ReceiveFrom(
                    _fd, data, buffer.Length, LinuxNative.MsgDontwait | LinuxNative.MsgTrunc, &from, &fromLength);
                if (received >= 0)
                {
                    return new ReceiveResult(ReceiveStatus.Datagram, (int)Math.Min(received, int.MaxValue), from.PortId);
                }

                var errno = Marshal.GetLastPInvokeError();
                switch (errno)
                {
                    case LinuxNative.EINTR:
                        continue;
                    case LinuxNative.EAGAIN:
                        return new ReceiveResult(ReceiveStatus.WouldBlock, 0, 0);
                    case LinuxNative.ENOBUFS:
                        return new ReceiveResult(ReceiveStatus.KernelDropped, 0, 0);
                    default:
                        throw new NflogException($"Receiving from the netlink socket failed: {LinuxNative.Describe(errno)}.", errno);
                }
            }
        }
    }

    public void Dispose() => _fd.Dispose();

    private int SetIntOption(int level, int name, int value) => LinuxNative.SetSockOpt(_fd, level, name, &value, sizeof(int));
}

/// <summary>What a non-blocking receive found.</summary>
internal enum ReceiveStatus
{
    /// <summary>A datagram was read.</summary>
    Datagram,

    /// <summary>Nothing queued.</summary>
    WouldBlock,

    /// <summary>ENOBUFS: the receive buffer overflowed and the kernel dropped messages since the last read.</summary>
    KernelDropped,
}

/// <param name="Status">What was found.</param>
/// <param name="Length">The datagram's real length (may exceed the buffer).</param>
/// <param name="SenderPortId">0 for the kernel; anything else is another socket.</param>
internal readonly record struct ReceiveResult(ReceiveStatus Status, int Length, uint SenderPortId);
