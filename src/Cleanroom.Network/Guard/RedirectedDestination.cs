using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Cleanroom.Network.Guard;

/// <summary>
/// Asks conntrack for a redirected IPv4 connection's original destination: getsockopt(SOL_IP, SO_ORIGINAL_DST), which
/// fills a <c>sockaddr_in</c>. Only what nftables' <c>redirect</c> or <c>dnat</c> changed has one worth trusting;
/// the guard also refuses an answer that is its own address.
/// </summary>
internal sealed partial class RedirectedDestination : IOriginalDestination
{
    private const int SolIp = 0;
    private const int SoOriginalDst = 80;
    private const int SockaddrInLength = 16;
    private const ushort AfInet = 2;

    public static RedirectedDestination Instance { get; } = new();

    public unsafe IPEndPoint? Find(Socket accepted)
    {
        ArgumentNullException.ThrowIfNull(accepted);
        var address = stackalloc byte[SockaddrInLength];
        var length = (uint)SockaddrInLength;
        if (GetSockOpt((int)accepted.Handle, SolIp, SoOriginalDst, address, ref length) != 0 || length < 8)
        {
            return null; // ENOENT: conntrack has no NAT mapping for it
        }

        var bytes = new ReadOnlySpan<byte>(address, SockaddrInLength);
        if (MemoryMarshal.Read<ushort>(bytes) != AfInet)
        {
            return null;
        }

        var port = BinaryPrimitives.ReadUInt16BigEndian(bytes[2..]);
        return new IPEndPoint(new IPAddress(bytes.Slice(4, 4)), port);
    }

    [LibraryImport("libc", EntryPoint = "getsockopt", SetLastError = true)]
    private static unsafe partial int GetSockOpt(int socket, int level, int option, byte* value, ref uint length);
}
