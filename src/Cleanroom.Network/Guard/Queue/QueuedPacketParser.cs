using System.Buffers.Binary;
using Cleanroom.Network.Nflog;

namespace Cleanroom.Network.Guard.Queue;

/// <summary>What one NFQNL_MSG_PACKET message carries that the guard uses.</summary>
internal readonly ref struct QueuedPacket
{
    public QueuedPacket(uint id, byte family, ReadOnlySpan<byte> payload, bool truncated)
    {
        Id = id;
        Family = family;
        Payload = payload;
        Truncated = truncated;
    }

    /// <summary>The kernel's id for the packet, which its verdict names.</summary>
    public uint Id { get; }

    /// <summary>The nfgenmsg family: 2 (IPv4) or 10 (IPv6).</summary>
    public byte Family { get; }

    /// <summary>The packet from its IP header on, as copied (guest bytes).</summary>
    public ReadOnlySpan<byte> Payload { get; }

    /// <summary>True when the kernel copied less than the whole packet (the copy range cut it).</summary>
    public bool Truncated { get; }
}

/// <summary>
/// Reads the body of one NFQNL_MSG_PACKET message (after the netlink header). Strict: no packet header, a duplicate
/// attribute or a lying length makes it unusable, and the caller drops what it can name. Never throws, never reads
/// outside the span.
/// </summary>
internal static class QueuedPacketParser
{
    /// <summary>
    /// Parses <paramref name="body"/> for queue <paramref name="queue"/>. Returns false when no packet id could be
    /// read (nothing can be said about such a message); <paramref name="usable"/> is false when the id is known but
    /// the rest is not trustworthy (then the packet must be dropped).
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> body, ushort queue, out QueuedPacket packet, out bool usable)
    {
        packet = default;
        usable = false;
        if (body.Length < NflogProtocol.GenericHeaderLength || body[1] != NflogProtocol.NfnetlinkVersion0
            || BinaryPrimitives.ReadUInt16BigEndian(body[2..]) != queue)
        {
            return false;
        }

        var family = body[0];
        uint? id = null;
        ReadOnlySpan<byte> payload = default;
        var hasPayload = false;
        var truncated = false;
        var duplicate = false;
        var seen = 0u;
        var reader = new NetlinkAttributeReader(body[NflogProtocol.GenericHeaderLength..], NfqueueProtocol.MaxAttributesPerMessage);
        while (reader.TryRead(out var type, out var value))
        {
            if (type < 32)
            {
                var bit = 1u << type;
                duplicate |= (seen & bit) != 0;
                seen |= bit;
            }

            switch (type)
            {
                case NfqueueProtocol.AttributePacketHeader when value.Length >= NfqueueProtocol.PacketHeaderLength:
                    id ??= BinaryPrimitives.ReadUInt32BigEndian(value);
                    break;
                case NfqueueProtocol.AttributePayload:
                    payload = value;
                    hasPayload = true;
                    break;
                case NfqueueProtocol.AttributeCaptureLength:
                    // The kernel adds it only when the copy is shorter than the packet.
                    truncated = true;
                    break;
            }
        }

        if (id is null)
        {
            return false;
        }

        packet = new QueuedPacket(id.Value, family, payload, truncated);
        usable = !reader.Malformed && !duplicate && hasPayload
            && family is NflogProtocol.FamilyIPv4 or NflogProtocol.FamilyIPv6;
        return true;
    }
}
