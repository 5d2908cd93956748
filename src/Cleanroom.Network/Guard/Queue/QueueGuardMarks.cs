using System.Globalization;

namespace Cleanroom.Network.Guard.Queue;

/// <summary>
/// The conntrack mark bits of the queue guard: three bits no other rule in Cleanroom's table uses, high enough to stay
/// clear of the low bits other host tools tend to take. The firewall sets <see cref="Pending"/> on a connection to a
/// learned destination and queues its packets while only that bit is set; the guard adds <see cref="Verified"/> (later
/// packets bypass the queue) or <see cref="Denied"/> (later packets get a reset).
/// </summary>
public static class QueueGuardMarks
{
    /// <summary>A TCP connection to a learned destination whose first message is not decided yet.</summary>
    public const uint Pending = 0x0100_0000;

    /// <summary>Its first message was allowed: forwarded like any allowed connection from now on.</summary>
    public const uint Verified = 0x0200_0000;

    /// <summary>Its first message was refused (or could not be read, or a bound was hit): reset from now on.</summary>
    public const uint Denied = 0x0400_0000;

    /// <summary>All three.</summary>
    public const uint Mask = Pending | Verified | Denied;

    /// <summary><paramref name="value"/> as nft writes a mark (0x0...).</summary>
    public static string Hex(uint value) => "0x" + value.ToString("x8", CultureInfo.InvariantCulture);
}
