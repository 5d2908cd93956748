using System.Net;
using System.Runtime.InteropServices;
using Cleanroom.Network.Guard;

namespace Cleanroom.Network.Tests.Guard;

/// <summary>The sockaddr layouts SO_ORIGINAL_DST and IP6T_SO_ORIGINAL_DST fill, read without a kernel.</summary>
public class OriginalDestinationAddressTests
{
    [Fact]
    public void A_sockaddr_in6_gives_its_address_and_big_endian_port()
    {
        var address = IPAddress.Parse("2001:db8::1:2");
        var endpoint = OriginalDestinationAddress.ParseSockaddrIn6(SockaddrIn6(10, 443, address, flowInfo: 0x12345, scope: 0));

        Assert.Equal(new IPEndPoint(address, 443), endpoint);
        Assert.Equal(0, endpoint!.Address.ScopeId);
    }

    [Fact]
    public void A_sockaddr_in6_keeps_the_scope_of_a_link_local_address()
    {
        var endpoint = OriginalDestinationAddress.ParseSockaddrIn6(SockaddrIn6(10, 8080, IPAddress.Parse("fe80::1"), flowInfo: 0, scope: 7));

        Assert.Equal(new IPEndPoint(IPAddress.Parse("fe80::1%7"), 8080), endpoint);
    }

    [Theory]
    [InlineData(2)] // AF_INET in an IPv6 answer
    [InlineData(0)]
    [InlineData(0xffff)]
    public void A_sockaddr_in6_of_another_family_is_no_answer(int family) =>
        Assert.Null(OriginalDestinationAddress.ParseSockaddrIn6(SockaddrIn6((ushort)family, 443, IPAddress.IPv6Loopback, 0, 0)));

    [Theory]
    [InlineData(0)]
    [InlineData(8)]
    [InlineData(24)] // sockaddr_in6 without its scope id (the old RFC 2133 size)
    [InlineData(27)]
    [InlineData(29)]
    public void A_sockaddr_in6_of_the_wrong_length_is_no_answer(int length)
    {
        var bytes = new byte[Math.Max(length, 28)];
        SockaddrIn6(10, 443, IPAddress.Parse("2001:db8::1"), 0, 0).CopyTo(bytes, 0);

        Assert.Null(OriginalDestinationAddress.ParseSockaddrIn6(bytes.AsSpan(0, length)));
    }

    [Fact]
    public void A_sockaddr_in_gives_its_address_and_big_endian_port()
    {
        var bytes = new byte[16];
        MemoryMarshal.Write(bytes, (ushort)2);
        bytes[2] = 0x01; // port 443
        bytes[3] = 0xbb;
        IPAddress.Parse("10.88.0.5").GetAddressBytes().CopyTo(bytes, 4);

        Assert.Equal(new IPEndPoint(IPAddress.Parse("10.88.0.5"), 443), OriginalDestinationAddress.ParseSockaddrIn(bytes));
        Assert.Null(OriginalDestinationAddress.ParseSockaddrIn(bytes.AsSpan(0, 7)));
        MemoryMarshal.Write(bytes, (ushort)10);
        Assert.Null(OriginalDestinationAddress.ParseSockaddrIn(bytes));
    }

    // struct sockaddr_in6: family (host order), port (network order), flowinfo, 16 address bytes, scope id (host order).
    private static byte[] SockaddrIn6(ushort family, ushort port, IPAddress address, uint flowInfo, uint scope)
    {
        var bytes = new byte[28];
        MemoryMarshal.Write(bytes, family);
        bytes[2] = (byte)(port >> 8);
        bytes[3] = (byte)port;
        MemoryMarshal.Write(bytes.AsSpan(4), flowInfo);
        address.GetAddressBytes().CopyTo(bytes, 8);
        MemoryMarshal.Write(bytes.AsSpan(24), scope);
        return bytes;
    }
}
