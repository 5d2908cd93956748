using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Cleanroom.Network.Guard;

/// <summary>
/// Turns a host name a guest wrote (TLS server name, HTTP Host) into the form the policy is asked about: ASCII
/// letters, digits, hyphens and underscores in dot-separated labels of 1–63 characters, at most 253 in all, lower case,
/// without the trailing dot. Anything else is refused rather than guessed at: a name the policy cannot match exactly
/// must not be let through on a lenient reading.
/// </summary>
internal static class HostName
{
    public const int MaxLength = 253;

    /// <summary>The normalised name, or null when <paramref name="raw"/> is not a host name.</summary>
    public static string? TryNormalize(ReadOnlySpan<byte> raw)
    {
        if (raw.Length > 0 && raw[^1] == (byte)'.')
        {
            raw = raw[..^1];
        }

        if (raw.Length is 0 or > MaxLength)
        {
            return null;
        }

        var label = 0;
        foreach (var b in raw)
        {
            if (b == (byte)'.')
            {
                if (label == 0)
                {
                    return null;
                }

                label = 0;
                continue;
            }

            if (!(char.IsAsciiLetterOrDigit((char)b) || b is (byte)'-' or (byte)'_') || ++label > 63)
            {
                return null;
            }
        }

        return label == 0 ? null : Encoding.ASCII.GetString(raw).ToLowerInvariant();
    }

    /// <summary>
    /// An HTTP authority (<c>host</c>, <c>host:port</c>, <c>[v6]</c>, <c>[v6]:port</c>) reduced to its host; null when it
    /// is not one (user info, a bad port, a bad name).
    /// </summary>
    public static string? TryFromAuthority(ReadOnlySpan<byte> authority)
    {
        if (authority.Length > 0 && authority[0] == (byte)'[')
        {
            var close = authority.IndexOf((byte)']');
            if (close < 0 || !IsPort(authority[(close + 1)..], bracketed: true))
            {
                return null;
            }

            var text = Encoding.ASCII.GetString(authority[1..close]);
            return IPAddress.TryParse(text, out var v6) && v6.AddressFamily == AddressFamily.InterNetworkV6 && !text.Contains('%', StringComparison.Ordinal)
                ? v6.ToString()
                : null;
        }

        var colon = authority.LastIndexOf((byte)':');
        if (colon >= 0)
        {
            if (!IsPort(authority[colon..], bracketed: false))
            {
                return null;
            }

            authority = authority[..colon];
        }

        return TryNormalize(authority);
    }

    // ":digits" (at most 5 of them, at most 65535) or, after a bracketed address, nothing at all.
    private static bool IsPort(ReadOnlySpan<byte> rest, bool bracketed)
    {
        if (rest.IsEmpty)
        {
            return bracketed;
        }

        if (rest[0] != (byte)':' || rest.Length is < 2 or > 6)
        {
            return false;
        }

        var value = 0;
        foreach (var b in rest[1..])
        {
            if (!char.IsAsciiDigit((char)b))
            {
                return false;
            }

            value = (value * 10) + (b - '0');
        }

        return value <= 65535;
    }
}
