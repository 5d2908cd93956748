using System.Net;
using System.Net.Sockets;

namespace Cleanroom.Policy.Text;

/// <summary>
/// Strict IP address literals. IPv4 must be four decimal octets without leading zeros: the lenient forms that
/// <see cref="IPAddress.TryParse(string?, out IPAddress?)"/> accepts (<c>127.1</c>, <c>0x7f.0.0.1</c>, <c>017.0.0.1</c>)
/// mean different addresses to different tools and are a classic way around allowlists. IPv4-mapped IPv6
/// addresses are folded to IPv4 so that one address has one spelling.
/// </summary>
internal static class IpLiteral
{
    /// <summary>Could this text be meant as an address (digits and dots only, or any colon)?</summary>
    public static bool LooksLikeAddress(string text) =>
        text.Contains(':', StringComparison.Ordinal) || (text.Length > 0 && text.All(c => char.IsAsciiDigit(c) || c == '.'));

    public static bool TryParse(string text, out byte[] bytes) =>
        text.Contains(':', StringComparison.Ordinal) ? TryParseV6(text, out bytes) : TryParseV4(text, out bytes);

    public static bool TryParseV4(string text, out byte[] bytes)
    {
        bytes = new byte[4];
        var parts = text.Split('.');
        if (parts.Length != 4)
        {
            return false;
        }

        for (var i = 0; i < 4; i++)
        {
            var part = parts[i];
            if (part.Length is 0 or > 3 || !part.All(char.IsAsciiDigit) || (part.Length > 1 && part[0] == '0'))
            {
                return false;
            }

            var value = int.Parse(part, System.Globalization.CultureInfo.InvariantCulture);
            if (value > 255)
            {
                return false;
            }

            bytes[i] = (byte)value;
        }

        return true;
    }

    public static bool TryParseV6(string text, out byte[] bytes)
    {
        bytes = [];
        if (text.Contains('%', StringComparison.Ordinal)
            || !IPAddress.TryParse(text, out var address)
            || address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return false;
        }

        bytes = address.IsIPv4MappedToIPv6 ? address.MapToIPv4().GetAddressBytes() : address.GetAddressBytes();
        return true;
    }

    /// <summary>The canonical text: dotted quad, or RFC 5952 compressed lowercase IPv6.</summary>
    public static string Format(byte[] bytes) => new IPAddress(bytes).ToString();

    /// <summary>True when the first <paramref name="prefixLength"/> bits of both addresses agree.</summary>
    public static bool SharePrefix(byte[] a, byte[] b, int prefixLength)
    {
        if (a.Length != b.Length)
        {
            return false;
        }

        var fullBytes = prefixLength / 8;
        for (var i = 0; i < fullBytes; i++)
        {
            if (a[i] != b[i])
            {
                return false;
            }
        }

        var remainingBits = prefixLength % 8;
        if (remainingBits == 0)
        {
            return true;
        }

        var mask = (byte)(0xFF << (8 - remainingBits));
        return (a[fullBytes] & mask) == (b[fullBytes] & mask);
    }

    /// <summary>The address with every bit after <paramref name="prefixLength"/> cleared.</summary>
    public static byte[] Truncate(byte[] address, int prefixLength)
    {
        var result = (byte[])address.Clone();
        for (var bit = prefixLength; bit < result.Length * 8; bit++)
        {
            result[bit / 8] &= (byte)~(0x80 >> (bit % 8));
        }

        return result;
    }
}
