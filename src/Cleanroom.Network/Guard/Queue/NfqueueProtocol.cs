using System.Buffers.Binary;
using Cleanroom.Network.Nflog;

namespace Cleanroom.Network.Guard.Queue;

/// <summary>
/// The nfnetlink_queue wire facts (linux/netfilter/nfnetlink_queue.h) and the requests the queue guard sends. Every
/// message starts with struct nfgenmsg, whose big-endian resource id is the queue number.
/// </summary>
internal static class NfqueueProtocol
{
    private const byte SubsystemQueue = 3;

    /// <summary>NFQNL_MSG_PACKET: one queued packet, kernel to us.</summary>
    public const ushort PacketMessageType = (SubsystemQueue << 8) | 0;

    /// <summary>NFQNL_MSG_VERDICT: us to the kernel, one packet's fate.</summary>
    public const ushort VerdictMessageType = (SubsystemQueue << 8) | 1;

    /// <summary>NFQNL_MSG_CONFIG: us to the kernel.</summary>
    public const ushort ConfigMessageType = (SubsystemQueue << 8) | 2;

    // enum nfqnl_attr_type
    public const ushort AttributePacketHeader = 1;
    public const ushort AttributeVerdictHeader = 2;
    public const ushort AttributeInputInterface = 5;
    public const ushort AttributePayload = 10;
    public const ushort AttributeCaptureLength = 13;

    /// <summary>More attributes than the kernel ever sends in one packet message: the message is not the kernel's.</summary>
    public const int MaxAttributesPerMessage = 64;

    /// <summary>struct nfqnl_msg_packet_hdr: packet id (be32), hardware protocol (be16), hook (u8), packed.</summary>
    public const int PacketHeaderLength = 7;

    // enum nfqnl_attr_config
    private const ushort ConfigAttributeCommand = 1;
    private const ushort ConfigAttributeParams = 2;
    private const ushort ConfigAttributeQueueMaxLength = 3;

    private const byte CommandBind = 1;
    private const byte CopyPacket = 2;

    /// <summary>NF_DROP.</summary>
    public const uint VerdictDrop = 0;

    /// <summary>NF_ACCEPT: the packet continues with the next hook after the one that queued it.</summary>
    public const uint VerdictAccept = 1;

    /// <summary>The most bytes of one packet the kernel can copy into an attribute (a 16-bit length minus its header).</summary>
    public const int MaxCopyRange = 0xFFFF - NetlinkFormat.AttributeHeaderLength;

    /// <summary>
    /// Binds queue <paramref name="queue"/> to this socket, asks for each packet's first <paramref name="copyRange"/>
    /// bytes, and caps the packets the kernel holds for us at <paramref name="maxLength"/> (past it, new packets are
    /// dropped: no fail-open flag is ever set). The kernel applies the command first, then the parameters.
    /// </summary>
    public static byte[] BindRequest(ushort queue, uint sequence, int copyRange, uint maxLength)
    {
        Span<byte> command = stackalloc byte[4]; // struct nfqnl_msg_config_cmd: command, pad, pf (be16, unused since 3.8)
        command[0] = CommandBind;
        Span<byte> parameters = stackalloc byte[5]; // struct nfqnl_msg_config_params, packed: copy range (be32), mode
        BinaryPrimitives.WriteUInt32BigEndian(parameters, (uint)copyRange);
        parameters[4] = CopyPacket;
        return new NetlinkRequestBuilder(ConfigMessageType, NetlinkFormat.FlagRequest | NetlinkFormat.FlagAck, sequence)
            .Fixed(GenericHeader(0, queue))
            .Attribute(ConfigAttributeCommand, command)
            .Attribute(ConfigAttributeParams, parameters)
            .AttributeBigEndian(ConfigAttributeQueueMaxLength, maxLength)
            .Build();
    }

    /// <summary>Appends one verdict message (no acknowledgement asked: errors still come back) to <paramref name="batch"/>.</summary>
    public static void AppendVerdict(List<byte> batch, ushort queue, uint packetId, uint verdict)
    {
        Span<byte> header = stackalloc byte[8]; // struct nfqnl_msg_verdict_hdr: verdict (be32), id (be32)
        BinaryPrimitives.WriteUInt32BigEndian(header, verdict);
        BinaryPrimitives.WriteUInt32BigEndian(header[4..], packetId);
        batch.AddRange(new NetlinkRequestBuilder(VerdictMessageType, NetlinkFormat.FlagRequest, 0)
            .Fixed(GenericHeader(0, queue))
            .Attribute(AttributeVerdictHeader, header)
            .Build());
    }

    /// <summary>struct nfgenmsg: family, version 0, resource id (be16).</summary>
    public static byte[] GenericHeader(byte family, ushort resourceId)
    {
        var header = new byte[NflogProtocol.GenericHeaderLength];
        header[0] = family;
        header[1] = NflogProtocol.NfnetlinkVersion0;
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(2), resourceId);
        return header;
    }
}
