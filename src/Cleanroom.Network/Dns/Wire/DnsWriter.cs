using System.Buffers.Binary;

namespace Cleanroom.Network.Dns.Wire;

/// <summary>
/// Builds a DNS message up to a fixed maximum size. Writing past the maximum does not throw: it sets
/// <see cref="Overflowed"/> and drops the rest, and the caller decides what a message that does not fit becomes
/// (truncated, or a failure). Owner names may be compressed against whole names written earlier.
/// </summary>
internal sealed class DnsWriter
{
    private const int MaxPointerOffset = 0x3FFF;

    private readonly int _maxLength;
    private readonly List<(DnsName Name, int Offset)> _written = [];
    private byte[] _buffer;

    public DnsWriter(int maxLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxLength);
        _maxLength = maxLength;
        _buffer = new byte[Math.Min(maxLength, 512)];
    }

    /// <summary>Bytes written so far.</summary>
    public int Length { get; private set; }

    /// <summary>True once a write did not fit; the message is then incomplete.</summary>
    public bool Overflowed { get; private set; }

    public void WriteUInt16(ushort value)
    {
        if (Reserve(2) is { } at)
        {
            BinaryPrimitives.WriteUInt16BigEndian(_buffer.AsSpan(at), value);
        }
    }

    public void WriteUInt32(uint value)
    {
        if (Reserve(4) is { } at)
        {
            BinaryPrimitives.WriteUInt32BigEndian(_buffer.AsSpan(at), value);
        }
    }

    public void WriteBytes(ReadOnlySpan<byte> bytes)
    {
        if (Reserve(bytes.Length) is { } at)
        {
            bytes.CopyTo(_buffer.AsSpan(at));
        }
    }

    /// <summary>
    /// Writes a name; with <paramref name="compress"/>, as a pointer to an equal name written earlier when there is
    /// one (only for owner names and the like: RFC 3597 forbids compressing names inside most record data).
    /// </summary>
    public void WriteName(DnsName name, bool compress)
    {
        if (compress)
        {
            foreach (var (earlier, offset) in _written)
            {
                if (earlier.Equals(name))
                {
                    WriteUInt16((ushort)(0xC000 | offset));
                    return;
                }
            }
        }

        var start = Length;
        WriteBytes(name.Wire);
        if (!Overflowed && start <= MaxPointerOffset && name.Wire.Length > 1)
        {
            _written.Add((name, start));
        }
    }

    /// <summary>Overwrites a 16-bit value written earlier (a count or an RDLENGTH known only afterwards).</summary>
    public void PatchUInt16(int offset, ushort value)
    {
        if (offset + 2 <= Length)
        {
            BinaryPrimitives.WriteUInt16BigEndian(_buffer.AsSpan(offset), value);
        }
    }

    /// <summary>A copy of the message written so far.</summary>
    public byte[] ToArray() => _buffer.AsSpan(0, Length).ToArray();

    private int? Reserve(int count)
    {
        if (Overflowed || Length + count > _maxLength)
        {
            Overflowed = true;
            return null;
        }

        if (Length + count > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Min(_maxLength, Math.Max(_buffer.Length * 2, Length + count)));
        }

        var at = Length;
        Length += count;
        return at;
    }
}
