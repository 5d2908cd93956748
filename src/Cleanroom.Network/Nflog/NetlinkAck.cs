using System.Runtime.InteropServices;

namespace Cleanroom.Network.Nflog;

/// <summary>
/// The kernel's answer to a request sent with NLM_F_ACK: an NLMSG_ERROR message carrying the request's sequence
/// number and a negative errno (0 for success), followed by the request's header.
/// </summary>
internal static class NetlinkAck
{
    private const int ErrorFieldLength = 4;

    /// <summary>
    /// Finds the answer to <paramref name="sequence"/> in a datagram. <paramref name="errno"/> is positive (or 0 for
    /// success). Other messages (logged packets that raced the answer) are passed over.
    /// </summary>
    public static bool TryFind(ReadOnlySpan<byte> datagram, uint sequence, out int errno)
    {
        errno = 0;
        var reader = new NetlinkMessageReader(datagram);
        while (reader.TryRead(out var message))
        {
            if (message.Type != NetlinkFormat.TypeError || message.Sequence != sequence ||
                message.Payload.Length < ErrorFieldLength + NetlinkFormat.MessageHeaderLength)
            {
                continue;
            }

            var error = MemoryMarshal.Read<int>(message.Payload);
            if (error > 0 || error == int.MinValue)
            {
                // Not a negative errno: not an answer the kernel sends.
                continue;
            }

            errno = -error;
            return true;
        }

        return false;
    }

    /// <summary>
    /// Sends <paramref name="request"/> (whose sequence number is <paramref name="sequence"/>) and waits up to
    /// <paramref name="timeout"/> for its answer. Returns the errno, 0 for success.
    /// </summary>
    public static int Exchange(NetlinkSocket socket, byte[] request, uint sequence, TimeSpan timeout)
    {
        socket.Send(request);
        var buffer = new byte[8192];
        var deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (true)
        {
            if (!socket.WaitReadableUntil(deadline))
            {
                throw new NflogException($"The kernel did not answer a netlink request within {timeout.TotalSeconds:0.#} s.");
            }

            var received = socket.TryReceive(buffer);
            if (received.Status == ReceiveStatus.Datagram && received.SenderPortId == 0 &&
                received.Length <= buffer.Length && TryFind(buffer.AsSpan(0, received.Length), sequence, out var errno))
            {
                return errno;
            }
        }
    }
}
