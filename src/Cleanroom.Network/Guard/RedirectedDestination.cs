using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Cleanroom.Network.Guard;

/// <summary>
/// Asks conntrack for a redirected connection's original destination: getsockopt(SOL_IP, SO_ORIGINAL_DST), which fills
/// a <c>sockaddr_in</c>, for a connection accepted on the IPv4 listener; getsockopt(SOL_IPV6, IP6T_SO_ORIGINAL_DST),
/// which fills a <c>sockaddr_in6</c>, for one accepted on the IPv6 listener. Only what nftables' <c>redirect</c> or
/// <c>dnat</c> changed has one worth trusting; the guard also refuses an answer that is its own address.
/// </summary>
internal sealed partial class RedirectedDestination : IOriginalDestination
{
    private const int SolIp = 0;
    private const int SolIpv6 = 41;
    private const int SoOriginalDst = 80;
    private const int Ip6tSoOriginalDst = 80;

    public static RedirectedDestination Instance { get; } = new();

    public IPEndPoint? Find(Socket accepted)
    {
        ArgumentNullException.ThrowIfNull(accepted);
        return accepted.AddressFamily switch
        {
            AddressFamily.InterNetwork => Ask(accepted, SolIp, SoOriginalDst, OriginalDestinationAddress.SockaddrInLength, false),
            AddressFamily.InterNetworkV6 => Ask(accepted, SolIpv6, Ip6tSoOriginalDst, OriginalDestinationAddress.SockaddrIn6Length, true),
            _ => null,
        };
    }

    private static unsafe IPEndPoint? Ask(Socket accepted, int level, int option, int size, bool v6)
    {
        var address = stackalloc byte[size];
        new Span<byte>(address, size).Clear();
        var length = (uint)size;
        if (GetSockOpt((int)accepted.Handle, level, option, address, ref length) != 0 || length > size)
        {
            return null; // ENOENT: conntrack has no NAT mapping for it
        }

        var filled = new ReadOnlySpan<byte>(address, (int)length);
        return v6 ? OriginalDestinationAddress.ParseSockaddrIn6(filled) : OriginalDestinationAddress.ParseSockaddrIn(filled);
    }

    [LibraryImport("libc", EntryPoint = "getsockopt", SetLastError = true)]
    private static unsafe partial int GetSockOpt(int socket, int level, int option, byte* value, ref uint length);
}
