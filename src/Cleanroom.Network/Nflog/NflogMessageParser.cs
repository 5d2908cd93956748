using System.Buffers.Binary;

namespace Cleanroom.Network.Nflog;

/// <summary>
/// Turns the body of one NFULNL_MSG_PACKET message (what follows the netlink header) into a
/// <see cref="LoggedPacket"/>. Strict: the structure must be what the kernel writes, or the message is skipped with the
/// reason. Never throws and never reads outside the span.
/// </summary>
internal static class NflogMessageParser
{
    private const int PacketHeaderLength = 4; // struct nfulnl_msg_packet_hdr

    /// <summary>NF_LOG_PREFIXLEN: the kernel keeps at most 127 characters and the NUL.</summary>
    private const int MaxPrefixBytes = 128;

    public static ParseFailure TryParse(ReadOnlySpan<byte> body, ushort group, out LoggedPacket? packet)
    {
        packet = null;
        if (body.Length < NflogProtocol.GenericHeaderLength || body[1] != NflogProtocol.NfnetlinkVersion0)
        {
            return ParseFailure.BadGenericHeader;
        }

        var family = body[0];
        if (BinaryPrimitives.ReadUInt16BigEndian(body[2..]) != group)
        {
            return ParseFailure.WrongGroup;
        }

        var failure = ReadAttributes(body[NflogProtocol.GenericHeaderLength..], out var fields);
        if (failure != ParseFailure.None)
        {
            return failure;
        }

        failure = IpHeaderParser.TryParse(fields.Payload, family, out var ip);
        if (failure != ParseFailure.None)
        {
            return failure;
        }

        packet = new LoggedPacket(
            ip.Source, ip.Destination, ip.Protocol, ip.DestinationPort, fields.Prefix, fields.InputInterface, fields.OutputInterface);
        return ParseFailure.None;
    }

    private static ParseFailure ReadAttributes(ReadOnlySpan<byte> attributes, out Fields fields)
    {
        fields = default;
        var seen = 0u;
        var reader = new NetlinkAttributeReader(attributes, NflogProtocol.MaxAttributesPerMessage);
        while (reader.TryRead(out var type, out var value))
        {
            // Attribute types the kernel sends today are below 32; later ones are ignored, not rejected.
            if (type < 32)
            {
                var bit = 1u << type;
                if ((seen & bit) != 0)
                {
                    return ParseFailure.DuplicateAttribute;
                }

                seen |= bit;
            }

            var failure = type switch
            {
                NflogProtocol.AttributePacketHeader => value.Length >= PacketHeaderLength
                    ? ParseFailure.None
                    : ParseFailure.MissingPacketHeader,
                NflogProtocol.AttributePrefix => ReadPrefix(value, out fields.Prefix),
                NflogProtocol.AttributeInputInterface => ReadInterfaceIndex(value, out fields.InputInterface),
                NflogProtocol.AttributeOutputInterface => ReadInterfaceIndex(value, out fields.OutputInterface),
                _ => ParseFailure.None,
            };
            if (failure != ParseFailure.None)
            {
                return failure;
            }

            if (type == NflogProtocol.AttributePayload)
            {
                fields.Payload = value;
            }
        }

        if (reader.Malformed)
        {
            return ParseFailure.BadAttributes;
        }

        if ((seen & (1u << NflogProtocol.AttributePacketHeader)) == 0)
        {
            return ParseFailure.MissingPacketHeader;
        }

        return (seen & (1u << NflogProtocol.AttributePayload)) == 0 ? ParseFailure.MissingPayload : ParseFailure.None;
    }

    /// <summary>The kernel sends the prefix with its NUL (strlen + 1 bytes).</summary>
    private static ParseFailure ReadPrefix(ReadOnlySpan<byte> value, out string? prefix)
    {
        prefix = null;
        if (value.IsEmpty || value.Length > MaxPrefixBytes || value[^1] != 0)
        {
            return ParseFailure.BadPrefix;
        }

        var text = value[..^1];
        foreach (var b in text)
        {
            if (b is < 0x20 or > 0x7E)
            {
                return ParseFailure.BadPrefix;
            }
        }

        // nftables sends an empty prefix (the NUL alone) for a rule that sets none: that is no prefix.
        prefix = text.IsEmpty ? null : System.Text.Encoding.ASCII.GetString(text);
        return ParseFailure.None;
    }

    private static ParseFailure ReadInterfaceIndex(ReadOnlySpan<byte> value, out int index)
    {
        index = 0;
        if (value.Length != 4)
        {
            return ParseFailure.BadInterfaceIndex;
        }

        var raw = BinaryPrimitives.ReadUInt32BigEndian(value);
        if (raw > int.MaxValue)
        {
            return ParseFailure.BadInterfaceIndex;
        }

        index = (int)raw;
        return ParseFailure.None;
    }

    /// <summary>The attributes this reader uses, gathered in one pass.</summary>
    private ref struct Fields
    {
        public ReadOnlySpan<byte> Payload;
        public string? Prefix;
        public int InputInterface;
        public int OutputInterface;
    }
}
