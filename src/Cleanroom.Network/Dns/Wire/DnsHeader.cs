using System.Buffers.Binary;

namespace Cleanroom.Network.Dns.Wire;

/// <summary>The fixed twelve-byte message header (RFC 1035 §4.1.1) and its flag bits.</summary>
internal readonly record struct DnsHeader(ushort Id, ushort Flags, ushort QuestionCount, ushort AnswerCount, ushort AuthorityCount, ushort AdditionalCount)
{
    public const int Length = 12;

    public const ushort ResponseFlag = 0x8000;
    public const ushort TruncatedFlag = 0x0200;
    public const ushort RecursionDesiredFlag = 0x0100;
    public const ushort RecursionAvailableFlag = 0x0080;

    /// <summary>The only opcode the filter serves: a standard query.</summary>
    public const int OpcodeQuery = 0;

    public bool IsResponse => (Flags & ResponseFlag) != 0;

    public int Opcode => (Flags >> 11) & 0xF;

    public bool IsTruncated => (Flags & TruncatedFlag) != 0;

    public bool RecursionDesired => (Flags & RecursionDesiredFlag) != 0;

    public DnsResponseCode ResponseCode => (DnsResponseCode)(Flags & 0xF);

    /// <summary>Reads a header; false when the message is shorter than one.</summary>
    public static bool TryRead(ReadOnlySpan<byte> message, out DnsHeader header)
    {
        if (message.Length < Length)
        {
            header = default;
            return false;
        }

        header = new DnsHeader(
            BinaryPrimitives.ReadUInt16BigEndian(message),
            BinaryPrimitives.ReadUInt16BigEndian(message[2..]),
            BinaryPrimitives.ReadUInt16BigEndian(message[4..]),
            BinaryPrimitives.ReadUInt16BigEndian(message[6..]),
            BinaryPrimitives.ReadUInt16BigEndian(message[8..]),
            BinaryPrimitives.ReadUInt16BigEndian(message[10..]));
        return true;
    }

    public void Write(DnsWriter writer)
    {
        writer.WriteUInt16(Id);
        writer.WriteUInt16(Flags);
        writer.WriteUInt16(QuestionCount);
        writer.WriteUInt16(AnswerCount);
        writer.WriteUInt16(AuthorityCount);
        writer.WriteUInt16(AdditionalCount);
    }
}
