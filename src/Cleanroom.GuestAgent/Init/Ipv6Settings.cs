using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Cleanroom.GuestAgent.Init;

/// <summary>
/// The guest's IPv6 on its one link, from <c>cleanroom.net6=ADDRESS/PREFIX,GATEWAY</c> on the kernel command line
/// (e.g. <c>fd63:6c65:616e::2/126,fd63:6c65:616e::1</c>): its address and the host end of the link (the default
/// route). DNS stays on the IPv4 resolver of <c>cleanroom.net=</c>.
/// </summary>
internal sealed record Ipv6Settings(IPAddress Address, int PrefixLength, IPAddress Gateway)
{
    /// <summary>Longest textual IPv6 address (INET6_ADDRSTRLEN without the terminator).</summary>
    private const int MaxAddressLength = 45;

    /// <summary>
    /// Parses the value of <c>cleanroom.net6=</c>; null when it is malformed (the agent then configures no IPv6).
    /// Strict on purpose: both must be plain unicast IPv6 addresses (no IPv4 or v4-mapped form, no zone), the prefix
    /// 1..127 in decimal digits, and the gateway on the link (inside the prefix, or link-local).
    /// </summary>
    public static Ipv6Settings? Parse(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var parts = value.Split(',');
        if (parts.Length != 2)
        {
            return null;
        }

        var slash = parts[0].IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0
            || TryParseAddress(parts[0][..slash]) is not { } address
            || !TryParsePrefix(parts[0][(slash + 1)..], out var prefix)
            || TryParseAddress(parts[1]) is not { } gateway
            || address.Equals(gateway)
            || !(gateway.IsIPv6LinkLocal || SamePrefix(address, gateway, prefix)))
        {
            return null;
        }

        return new Ipv6Settings(address, prefix, gateway);
    }

    /// <summary>A unicast IPv6 address in plain text form, or null.</summary>
    private static IPAddress? TryParseAddress(string text)
    {
        // IPAddress.TryParse also takes IPv4, brackets and zones ("fe80::1%eth0"): only hex digits, colons and the dots of
        // an embedded IPv4 tail are allowed, and a colon is required so the text cannot be an IPv4 address.
        if (text.Length is 0 or > MaxAddressLength
            || !text.Contains(':', StringComparison.Ordinal)
            || !text.All(c => char.IsAsciiHexDigit(c) || c is ':' or '.')
            || !IPAddress.TryParse(text, out var address)
            || address.AddressFamily != AddressFamily.InterNetworkV6
            || address.ScopeId != 0
            || address.IsIPv4MappedToIPv6
            || address.IsIPv6Multicast
            || address.Equals(IPAddress.IPv6Any)
            || address.Equals(IPAddress.IPv6Loopback))
        {
            return null;
        }

        return address;
    }

    private static bool TryParsePrefix(string text, out int prefix)
    {
        prefix = 0;
        return text.Length is >= 1 and <= 3
            && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out prefix)
            && prefix is >= 1 and <= 127;
    }

    /// <summary>Whether the first <paramref name="prefix"/> bits of both addresses agree.</summary>
    private static bool SamePrefix(IPAddress a, IPAddress b, int prefix)
    {
        var mask = UInt128.MaxValue << (128 - prefix);
        return (ToNumber(a) & mask) == (ToNumber(b) & mask);
    }

    private static UInt128 ToNumber(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        return BinaryPrimitives.ReadUInt128BigEndian(bytes);
    }
}
