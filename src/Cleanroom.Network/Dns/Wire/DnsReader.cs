using System.Buffers.Binary;

namespace Cleanroom.Network.Dns.Wire;

/// <summary>
/// Reads a DNS message front to back without ever reading outside it. Every read returns false instead of throwing,
/// so hostile input costs no exception. Compressed names are followed with bounds that rule out loops: a pointer may
/// only point behind the start of the fragment being read and never into the header, and at most
/// <see cref="MaxPointers"/> pointers are followed per name.
/// </summary>
internal ref struct DnsReader
{
    /// <summary>Pointers followed per name; real names need one or two.</summary>
    public const int MaxPointers = 16;

    private readonly ReadOnlySpan<byte> _message;

    public DnsReader(ReadOnlySpan<byte> message, int position)
    {
        _message = message;
        Position = position;
    }

    /// <summary>The offset of the next byte to read.</summary>
    public int Position { get; private set; }

    /// <summary>Bytes left after <see cref="Position"/>.</summary>
    public readonly int Remaining => _message.Length - Position;

    public bool TryReadUInt16(out ushort value)
    {
        value = 0;
        if (Remaining < 2)
        {
            return false;
        }

        value = BinaryPrimitives.ReadUInt16BigEndian(_message[Position..]);
        Position += 2;
        return true;
    }

    public bool TryReadUInt32(out uint value)
    {
        value = 0;
        if (Remaining < 4)
        {
            return false;
        }

        value = BinaryPrimitives.ReadUInt32BigEndian(_message[Position..]);
        Position += 4;
        return true;
    }

    public bool TryReadBytes(int count, out ReadOnlySpan<byte> bytes)
    {
        bytes = default;
        if (count < 0 || Remaining < count)
        {
            return false;
        }

        bytes = _message.Slice(Position, count);
        Position += count;
        return true;
    }

    /// <summary>
    /// Reads a possibly compressed name (RFC 1035 §4.1.4). False for a name that runs past the message, uses a reserved
    /// label type, is longer than 255 bytes, or points forward, into the header, or in a loop.
    /// </summary>
    public bool TryReadName(out DnsName name)
    {
        name = DnsName.Root;
        Span<byte> wire = stackalloc byte[DnsName.MaxWireLength];
        var length = 0;
        var at = Position;
        var fragmentStart = Position;
        var pointers = 0;
        int? resumeAt = null;
        while (true)
        {
            if (at >= _message.Length)
            {
                return false;
            }

            var labelLength = _message[at];
            if (labelLength == 0)
            {
                wire[length++] = 0;
                Position = resumeAt ?? at + 1;
                name = DnsName.FromCheckedWire(wire[..length]);
                return true;
            }

            switch (labelLength & 0xC0)
            {
                case 0xC0:
                    if (at + 1 >= _message.Length || ++pointers > MaxPointers)
                    {
                        return false;
                    }

                    var target = ((labelLength & 0x3F) << 8) | _message[at + 1];
                    if (target < DnsHeader.Length || target >= fragmentStart)
                    {
                        return false;
                    }

                    resumeAt ??= at + 2;
                    at = fragmentStart = target;
                    continue;
                case 0x00:
                    // One byte for this label's length plus the root label's byte must still fit in 255.
                    if (at + 1 + labelLength > _message.Length || length + 1 + labelLength + 1 > DnsName.MaxWireLength)
                    {
                        return false;
                    }

                    _message.Slice(at, labelLength + 1).CopyTo(wire[length..]);
                    length += labelLength + 1;
                    at += labelLength + 1;
                    continue;
                default:
                    // 0x40 and 0x80: extended label types (RFC 6891 §5), never valid in a message.
                    return false;
            }
        }
    }
}
