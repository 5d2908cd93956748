using System.Buffers.Binary;
using System.Net;
using System.Runtime.InteropServices;

namespace Cleanroom.Network.Guard;

/// <summary>
/// Reads the <c>sockaddr_in</c> or <c>sockaddr_in6</c> the kernel's SO_ORIGINAL_DST / IP6T_SO_ORIGINAL_DST fills.
/// Pure, so the layouts are tested without a redirect; anything not exactly the expected family and size is no answer.
/// </summary>
internal static class OriginalDestinationAddress
{
    /// <summary>Size of <c>struct sockaddr_in</c>.</summary>
    public const int SockaddrInLength = 16;

    /// <summary>Size of <c>struct sockaddr_in6</c>.</summary>
    public const int SockaddrIn6Length = 28;

    private const ushort AfInet = 2;
    private const ushort AfInet6 = 10;

    /// <summary>
    /// The endpoint in a <c>sockaddr_in</c> (family in host order, port big-endian, 4 address bytes), or null when it
    /// is shorter than the family, port and address, or not AF_INET.
    /// </summary>
    public static IPEndPoint? ParseSockaddrIn(ReadOnlySpan<byte> sockaddr)
    {
        if (sockaddr.Length < 8 || MemoryMarshal.Read<ushort>(sockaddr) != AfInet)
        {
            return null;
        }

        return new IPEndPoint(new IPAddress(sockaddr.Slice(4, 4)), BinaryPrimitives.ReadUInt16BigEndian(sockaddr[2..]));
    }

    /// <summary>
    /// The endpoint in a <c>sockaddr_in6</c> (family in host order, port big-endian, flowinfo, 16 address bytes,
    /// scope id in host order), or null when it is not exactly 28 bytes or not AF_INET6. The kernel sets a scope id
    /// only for a link-scoped address; it is kept, so such an address still equals the socket's own.
    /// </summary>
    public static IPEndPoint? ParseSockaddrIn6(ReadOnlySpan<byte> sockaddr)
    {
        if (sockaddr.Length != SockaddrIn6Length || MemoryMarshal.Read<ushort>(sockaddr) != AfInet6)
        {
            return null;
        }

        var port = BinaryPrimitives.ReadUInt16BigEndian(sockaddr[2..]);
        var scope = MemoryMarshal.Read<uint>(sockaddr[24..]);
        return new IPEndPoint(new IPAddress(sockaddr.Slice(8, 16), scope), port);
    }
}
