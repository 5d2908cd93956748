using System.Globalization;

namespace Cleanroom.GuestAgent.Init;

/// <summary>An Ethernet hardware address written as the host writes it: six lowercase hex pairs joined by colons.</summary>
internal static class MacAddress
{
    public const int Length = 6;

    /// <summary>
    /// The six bytes of <paramref name="text"/>, or null unless it is exactly <c>xx:xx:xx:xx:xx:xx</c> in lowercase
    /// hex and a unicast address other than all zero (the kernel refuses the others for a card).
    /// </summary>
    public static byte[]? Parse(string text)
    {
        if (text.Length != (Length * 3) - 1)
        {
            return null;
        }

        var bytes = new byte[Length];
        for (var i = 0; i < Length; i++)
        {
            var pair = text.AsSpan(i * 3, 2);
            if ((i > 0 && text[(i * 3) - 1] != ':') || !IsLowerHex(pair[0]) || !IsLowerHex(pair[1]))
            {
                return null;
            }

            bytes[i] = byte.Parse(pair, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
        }

        var multicast = (bytes[0] & 1) != 0;
        return multicast || bytes.All(b => b == 0) ? null : bytes;
    }

    private static bool IsLowerHex(char c) => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f';
}
