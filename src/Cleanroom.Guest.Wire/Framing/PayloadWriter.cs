using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Cleanroom.Guest.Wire.Framing;

/// <summary>Builds a frame payload field by field, in the layout <see cref="PayloadReader"/> reads.</summary>
public sealed class PayloadWriter
{
    private readonly ArrayBufferWriter<byte> _buffer = new(64);

    public int Length => _buffer.WrittenCount;

    public ReadOnlyMemory<byte> WrittenMemory => _buffer.WrittenMemory;

    public PayloadWriter WriteByte(byte value)
    {
        _buffer.GetSpan(1)[0] = value;
        _buffer.Advance(1);
        return this;
    }

    public PayloadWriter WriteUInt16(ushort value)
    {
        BinaryPrimitives.WriteUInt16BigEndian(_buffer.GetSpan(2), value);
        _buffer.Advance(2);
        return this;
    }

    public PayloadWriter WriteInt32(int value)
    {
        BinaryPrimitives.WriteInt32BigEndian(_buffer.GetSpan(4), value);
        _buffer.Advance(4);
        return this;
    }

    public PayloadWriter WriteUInt32(uint value)
    {
        BinaryPrimitives.WriteUInt32BigEndian(_buffer.GetSpan(4), value);
        _buffer.Advance(4);
        return this;
    }

    public PayloadWriter WriteUInt64(ulong value)
    {
        BinaryPrimitives.WriteUInt64BigEndian(_buffer.GetSpan(8), value);
        _buffer.Advance(8);
        return this;
    }

    public PayloadWriter WriteInt64(long value)
    {
        BinaryPrimitives.WriteInt64BigEndian(_buffer.GetSpan(8), value);
        _buffer.Advance(8);
        return this;
    }

    /// <summary>A u32 length followed by the bytes as they are.</summary>
    public PayloadWriter WriteBytes(ReadOnlySpan<byte> value)
    {
        WriteUInt32((uint)value.Length);
        value.CopyTo(_buffer.GetSpan(value.Length));
        _buffer.Advance(value.Length);
        return this;
    }

    public PayloadWriter WriteString(string value)
    {
        var byteCount = Encoding.UTF8.GetByteCount(value);
        WriteUInt32((uint)byteCount);
        Encoding.UTF8.GetBytes(value, _buffer.GetSpan(byteCount));
        _buffer.Advance(byteCount);
        return this;
    }

    public PayloadWriter WriteStringList(IReadOnlyList<string> values)
    {
        WriteUInt32((uint)values.Count);
        foreach (var value in values)
        {
            WriteString(value);
        }

        return this;
    }

    public byte[] ToArray() => _buffer.WrittenSpan.ToArray();
}
