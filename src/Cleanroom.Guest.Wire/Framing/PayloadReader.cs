using System.Buffers.Binary;
using System.Text;

namespace Cleanroom.Guest.Wire.Framing;

/// <summary>
/// Reads fields from a frame payload. Every read is bounds-checked against what is left, so a lying length or a
/// truncated payload becomes a <see cref="WireProtocolException"/>, never an out-of-range read or a large allocation.
/// </summary>
public ref struct PayloadReader
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private readonly string _what;
    private ReadOnlySpan<byte> _remaining;

    public PayloadReader(ReadOnlySpan<byte> payload, string what)
    {
        _remaining = payload;
        _what = what;
    }

    public readonly int Remaining => _remaining.Length;

    public byte ReadByte() => Take(1)[0];

    public ushort ReadUInt16() => BinaryPrimitives.ReadUInt16BigEndian(Take(2));

    public int ReadInt32() => BinaryPrimitives.ReadInt32BigEndian(Take(4));

    public uint ReadUInt32() => BinaryPrimitives.ReadUInt32BigEndian(Take(4));

    public ulong ReadUInt64() => BinaryPrimitives.ReadUInt64BigEndian(Take(8));

    public long ReadInt64() => BinaryPrimitives.ReadInt64BigEndian(Take(8));

    /// <summary>A u32 length (at most <paramref name="maxLength"/>) followed by that many bytes, copied.</summary>
    public byte[] ReadBytes(int maxLength) => TakeCounted(maxLength, "byte string").ToArray();

    /// <summary>A u32 length followed by that many UTF-8 bytes.</summary>
    public string ReadString() => ReadString(int.MaxValue);

    /// <summary>A u32 length (at most <paramref name="maxBytes"/>, checked before decoding) followed by that many UTF-8 bytes.</summary>
    public string ReadString(int maxBytes)
    {
        var bytes = TakeCounted(maxBytes, "string");
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException ex)
        {
            throw new WireProtocolException($"{_what}: string is not valid UTF-8", ex);
        }
    }

    /// <summary>A u32 count (at most <paramref name="maxEntries"/>) followed by that many strings.</summary>
    public IReadOnlyList<string> ReadStringList(int maxEntries)
    {
        var count = ReadUInt32();
        if (count > (uint)maxEntries)
        {
            throw new WireProtocolException($"{_what}: list of {count} entries exceeds the limit of {maxEntries}");
        }

        // Each entry needs at least its 4-byte length, so this bounds the allocation by the payload size.
        if (count * 4L > _remaining.Length)
        {
            throw new WireProtocolException($"{_what}: list of {count} entries does not fit in the payload");
        }

        var list = new string[count];
        for (var i = 0; i < list.Length; i++)
        {
            list[i] = ReadString();
        }

        return list;
    }

    /// <summary>Fails if bytes are left over: a payload must be exactly what its type says.</summary>
    public readonly void EnsureEnd()
    {
        if (_remaining.Length != 0)
        {
            throw new WireProtocolException($"{_what}: {_remaining.Length} unexpected trailing bytes");
        }
    }

    /// <summary>A u32 length, bounded by <paramref name="maxLength"/> and by what is left, then that many bytes.</summary>
    private ReadOnlySpan<byte> TakeCounted(int maxLength, string kind)
    {
        var length = ReadUInt32();
        if (length > (uint)maxLength)
        {
            throw new WireProtocolException($"{_what}: {kind} length {length} exceeds the limit of {maxLength} bytes");
        }

        if (length > (uint)_remaining.Length)
        {
            throw new WireProtocolException($"{_what}: {kind} length {length} exceeds the {_remaining.Length} bytes left");
        }

        return Take((int)length);
    }

    private ReadOnlySpan<byte> Take(int count)
    {
        if (_remaining.Length < count)
        {
            throw new WireProtocolException($"{_what}: payload truncated (needed {count} more bytes, {_remaining.Length} left)");
        }

        var taken = _remaining[..count];
        _remaining = _remaining[count..];
        return taken;
    }
}
