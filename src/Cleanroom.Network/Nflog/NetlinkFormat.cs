namespace Cleanroom.Network.Nflog;

/// <summary>
/// Netlink framing facts (netlink(7), linux/netlink.h): a 16-byte message header in host byte order, messages and
/// attributes aligned to 4 bytes, and the four control message types every netlink family shares.
/// </summary>
internal static class NetlinkFormat
{
    public const int MessageHeaderLength = 16;
    public const int AttributeHeaderLength = 4;
    public const int Alignment = 4;

    public const ushort TypeNoop = 1;
    public const ushort TypeError = 2;
    public const ushort TypeDone = 3;
    public const ushort TypeOverrun = 4;

    public const ushort FlagRequest = 0x1;
    public const ushort FlagMulti = 0x2;
    public const ushort FlagAck = 0x4;

    /// <summary>Attribute type bits that are flags, not part of the type (NLA_F_NESTED, NLA_F_NET_BYTEORDER).</summary>
    public const ushort AttributeFlagBits = 0xC000;

    /// <summary>Rounds <paramref name="length"/> up to the netlink alignment; never overflows for lengths below 2^31-3.</summary>
    public static int Align(int length) => (length + Alignment - 1) & ~(Alignment - 1);
}
