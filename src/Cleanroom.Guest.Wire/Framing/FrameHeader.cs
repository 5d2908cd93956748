using System.Buffers.Binary;

namespace Cleanroom.Guest.Wire.Framing;

/// <summary>
/// The fixed 9-byte frame header: payload length (u32, big-endian), type (u8), stream id (u32, big-endian).
/// The length comes first so a reader can reject an oversized frame before reading anything else of it.
/// </summary>
public readonly record struct FrameHeader(int PayloadLength, FrameType Type, uint StreamId)
{
    public const int Size = 9;

    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)PayloadLength);
        destination[4] = (byte)Type;
        BinaryPrimitives.WriteUInt32BigEndian(destination[5..], StreamId);
    }

    /// <summary>Parses and validates a header against the limits; throws <see cref="WireProtocolException"/>.</summary>
    public static FrameHeader Parse(ReadOnlySpan<byte> source, int maxPayload)
    {
        var length = BinaryPrimitives.ReadUInt32BigEndian(source);
        if (length > (uint)maxPayload)
        {
            throw new WireProtocolException($"frame payload of {length} bytes exceeds the limit of {maxPayload} bytes");
        }

        var type = (FrameType)source[4];
        if (!Enum.IsDefined(type))
        {
            throw new WireProtocolException($"unknown frame type {source[4]}");
        }

        return new FrameHeader((int)length, type, BinaryPrimitives.ReadUInt32BigEndian(source[5..]));
    }
}
