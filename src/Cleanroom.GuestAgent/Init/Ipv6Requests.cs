using System.Buffers.Binary;
using System.Net;
using Cleanroom.GuestAgent.Native;

namespace Cleanroom.GuestAgent.Init;

/// <summary>
/// The two structs the IPv6 ioctls take, laid out by hand for x86-64 Linux (checked against the uapi headers with
/// offsetof/sizeof). Pure functions over a span so the layout is testable byte for byte.
/// </summary>
internal static class Ipv6Requests
{
    /// <summary>sizeof(struct in6_ifreq): ifr6_addr (16), ifr6_prefixlen (u32 at 16), ifr6_ifindex (int at 20).</summary>
    public const int InterfaceRequestSize = 24;

    /// <summary>
    /// sizeof(struct in6_rtmsg): rtmsg_dst 0, rtmsg_src 16, rtmsg_gateway 32 (in6_addr each), rtmsg_type u32 48,
    /// rtmsg_dst_len u16 52, rtmsg_src_len u16 54, rtmsg_metric u32 56, 4 bytes padding, rtmsg_info unsigned long 64,
    /// rtmsg_flags u32 72, rtmsg_ifindex int 76.
    /// </summary>
    public const int RouteMessageSize = 80;

    /// <summary>The metric of the default route, as route(8) uses for routes added by hand.</summary>
    public const uint DefaultRouteMetric = 1;

    /// <summary>Fills a struct in6_ifreq for SIOCSIFADDR: <paramref name="address"/>/<paramref name="prefixLength"/> on interface <paramref name="interfaceIndex"/>.</summary>
    public static void WriteInterfaceRequest(Span<byte> target, IPAddress address, int prefixLength, int interfaceIndex)
    {
        var request = target[..InterfaceRequestSize];
        request.Clear();
        WriteAddress(request[..16], address);
        BinaryPrimitives.WriteUInt32LittleEndian(request[16..], (uint)prefixLength);
        BinaryPrimitives.WriteInt32LittleEndian(request[20..], interfaceIndex);
    }

    /// <summary>
    /// Fills a struct in6_rtmsg for SIOCADDRT: the default route ::/0 (destination and source all zero, both lengths 0)
    /// via <paramref name="gateway"/> out of interface <paramref name="interfaceIndex"/>, RTF_UP|RTF_GATEWAY, metric 1.
    /// rtmsg_type 0 lets the kernel make it a unicast route; rtmsg_info 0 means it never expires.
    /// </summary>
    public static void WriteDefaultRoute(Span<byte> target, IPAddress gateway, int interfaceIndex)
    {
        var message = target[..RouteMessageSize];
        message.Clear();
        WriteAddress(message[32..48], gateway);
        BinaryPrimitives.WriteUInt32LittleEndian(message[56..], DefaultRouteMetric);
        BinaryPrimitives.WriteUInt32LittleEndian(message[72..], LibC.RTF_UP | LibC.RTF_GATEWAY);
        BinaryPrimitives.WriteInt32LittleEndian(message[76..], interfaceIndex);
    }

    /// <summary>A struct in6_addr: the 16 address bytes in network order.</summary>
    private static void WriteAddress(Span<byte> target, IPAddress address)
    {
        if (!address.TryWriteBytes(target, out var written) || written != 16)
        {
            throw new ArgumentException($"{address} is not an IPv6 address", nameof(address));
        }
    }
}
