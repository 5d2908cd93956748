using System.Buffers.Binary;

namespace Cleanroom.Network.Nflog;

/// <summary>
/// The nfnetlink_log wire facts (linux/netfilter/nfnetlink.h, nfnetlink_log.h) and the requests this reader sends.
/// Every nfnetlink message starts with struct nfgenmsg: family, version 0, and a big-endian resource id, which for the
/// log subsystem is the group number.
/// </summary>
internal static class NflogProtocol
{
    public const int GenericHeaderLength = 4;
    public const byte NfnetlinkVersion0 = 0;

    private const byte SubsystemUlog = 4;
    private const byte MessagePacket = 0;
    private const byte MessageConfig = 1;

    /// <summary>NFULNL_MSG_PACKET in the log subsystem: one logged packet, kernel to us.</summary>
    public const ushort PacketMessageType = (SubsystemUlog << 8) | MessagePacket;

    /// <summary>NFULNL_MSG_CONFIG in the log subsystem: us to the kernel.</summary>
    public const ushort ConfigMessageType = (SubsystemUlog << 8) | MessageConfig;

    // enum nfulnl_attr_type
    public const ushort AttributePacketHeader = 1;
    public const ushort AttributeInputInterface = 4;
    public const ushort AttributeOutputInterface = 5;
    public const ushort AttributePayload = 9;
    public const ushort AttributePrefix = 10;

    /// <summary>The highest attribute number one message can carry today; a message with more is not the kernel's.</summary>
    public const int MaxAttributesPerMessage = 64;

    // enum nfulnl_attr_config
    private const ushort ConfigAttributeCommand = 1;
    private const ushort ConfigAttributeMode = 2;
    private const ushort ConfigAttributeTimeout = 4;

    private const byte CommandBind = 1;
    private const byte CopyPacket = 2;

    /// <summary>NFULNL_COPY_RANGE_MAX: an attribute's 16-bit length minus its header.</summary>
    public const int MaxCopyRange = 0xFFFF - NetlinkFormat.AttributeHeaderLength;

    public const byte FamilyUnspecified = 0;
    public const byte FamilyIPv4 = 2;
    public const byte FamilyIPv6 = 10;

    /// <summary>
    /// Binds <paramref name="group"/> to this socket and sets, in the same message (the kernel applies the command
    /// first, then the parameters): copy mode "packet" with <paramref name="copyRange"/> bytes of each packet, and the
    /// longest time the kernel batches messages before sending (<paramref name="flushTimeoutCentiseconds"/>).
    /// No PF_UNBIND/PF_BIND: those choose the per-family default logger (used by rules that name no logger type);
    /// an nftables <c>log group</c> rule names nfnetlink_log itself, and rebinding the default would take it from
    /// whoever uses it on the host.
    /// </summary>
    public static byte[] BindRequest(ushort group, uint sequence, int copyRange, uint flushTimeoutCentiseconds)
    {
        Span<byte> mode = stackalloc byte[6]; // struct nfulnl_msg_config_mode, packed
        BinaryPrimitives.WriteUInt32BigEndian(mode, (uint)copyRange);
        mode[4] = CopyPacket;
        return new NetlinkRequestBuilder(ConfigMessageType, NetlinkFormat.FlagRequest | NetlinkFormat.FlagAck, sequence)
            .Fixed(GenericHeader(FamilyUnspecified, group))
            .Attribute(ConfigAttributeCommand, [CommandBind])
            .Attribute(ConfigAttributeMode, mode)
            .AttributeBigEndian(ConfigAttributeTimeout, flushTimeoutCentiseconds)
            .Build();
    }

    /// <summary>
    /// A packet message sent to the kernel, which the log subsystem always refuses with ENOTSUPP, but only after
    /// nfnetlink has checked CAP_NET_ADMIN (EPERM) and found or loaded the subsystem (EINVAL when it cannot): the
    /// one question whose answer depends on nothing but permission and module, and changes nothing.
    /// </summary>
    public static byte[] CapabilityCheckRequest(uint sequence) =>
        new NetlinkRequestBuilder(PacketMessageType, NetlinkFormat.FlagRequest | NetlinkFormat.FlagAck, sequence)
            .Fixed(GenericHeader(FamilyUnspecified, 0))
            .Build();

    /// <summary>
    /// A config message without a command for <paramref name="group"/>: ENODEV when nobody has bound it, EPERM when
    /// another socket has. Changes nothing either way.
    /// </summary>
    public static byte[] GroupCheckRequest(ushort group, uint sequence) =>
        new NetlinkRequestBuilder(ConfigMessageType, NetlinkFormat.FlagRequest | NetlinkFormat.FlagAck, sequence)
            .Fixed(GenericHeader(FamilyUnspecified, group))
            .Build();

    private static byte[] GenericHeader(byte family, ushort resourceId)
    {
        var header = new byte[GenericHeaderLength];
        header[0] = family;
        header[1] = NfnetlinkVersion0;
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(2), resourceId);
        return header;
    }
}
