using System.Net;
using Cleanroom.GuestAgent.Init;

namespace Cleanroom.GuestAgent.Tests;

/// <summary>
/// The hand-made structs against the bytes gcc produced for the same values from the uapi headers (struct in6_ifreq
/// from linux/ipv6.h, struct in6_rtmsg from linux/ipv6_route.h, x86-64: 24 and 80 bytes).
/// </summary>
public class Ipv6RequestsTests
{
    [Fact]
    public void Interface_request_matches_the_kernel_layout()
    {
        var buffer = new byte[Ipv6Requests.InterfaceRequestSize + 4];
        buffer.AsSpan().Fill(0xAA);
        Ipv6Requests.WriteInterfaceRequest(buffer, IPAddress.Parse("fd63:6c65:616e::2"), 126, 7);
        Assert.Equal("fd636c65616e000000000000000000027e00000007000000", Convert.ToHexStringLower(buffer.AsSpan(0, Ipv6Requests.InterfaceRequestSize)));
        Assert.Equal("aaaaaaaa", Convert.ToHexStringLower(buffer.AsSpan(Ipv6Requests.InterfaceRequestSize)));
    }

    [Fact]
    public void Default_route_matches_the_kernel_layout()
    {
        var buffer = new byte[Ipv6Requests.RouteMessageSize + 4];
        buffer.AsSpan().Fill(0xAA);
        Ipv6Requests.WriteDefaultRoute(buffer, IPAddress.Parse("fd63:6c65:616e::1"), 7);
        Assert.Equal(
            "00000000000000000000000000000000" // rtmsg_dst ::
            + "00000000000000000000000000000000" // rtmsg_src ::
            + "fd636c65616e00000000000000000001" // rtmsg_gateway
            + "00000000" + "0000" + "0000" // rtmsg_type, rtmsg_dst_len 0, rtmsg_src_len 0
            + "01000000" + "00000000" // rtmsg_metric 1, padding
            + "0000000000000000" // rtmsg_info
            + "03000000" + "07000000", // rtmsg_flags RTF_UP|RTF_GATEWAY, rtmsg_ifindex
            Convert.ToHexStringLower(buffer.AsSpan(0, Ipv6Requests.RouteMessageSize)));
        Assert.Equal("aaaaaaaa", Convert.ToHexStringLower(buffer.AsSpan(Ipv6Requests.RouteMessageSize)));
    }

    [Fact]
    public void An_ipv4_address_is_refused() =>
        Assert.Throws<ArgumentException>(() => Ipv6Requests.WriteDefaultRoute(new byte[Ipv6Requests.RouteMessageSize], IPAddress.Parse("10.0.0.1"), 1));
}
