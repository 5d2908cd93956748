using System.Runtime.InteropServices;

namespace Cleanroom.Network.Nflog;

/// <summary>
/// Walks the type-length-value attributes after a message's fixed header. Every step advances by at least one
/// attribute header, so hostile lengths cannot loop; a length below the header or past the end sets
/// <see cref="Malformed"/> and ends the walk; <paramref name="maxAttributes"/> bounds the work per message.
/// </summary>
internal ref struct NetlinkAttributeReader
{
    private readonly int _maxAttributes;
    private ReadOnlySpan<byte> _rest;
    private int _read;

    public NetlinkAttributeReader(ReadOnlySpan<byte> attributes, int maxAttributes)
    {
        _rest = attributes;
        _maxAttributes = maxAttributes;
    }

    public bool Malformed { get; private set; }

    /// <summary>Reads the next attribute; <paramref name="type"/> has the nested/byte-order flag bits cleared.</summary>
    public bool TryRead(out ushort type, out ReadOnlySpan<byte> value)
    {
        type = 0;
        value = default;
        if (_rest.IsEmpty)
        {
            return false;
        }

        if (_rest.Length < NetlinkFormat.AttributeHeaderLength || _read == _maxAttributes)
        {
            return Stop();
        }

        var length = MemoryMarshal.Read<ushort>(_rest);
        if (length < NetlinkFormat.AttributeHeaderLength || length > _rest.Length)
        {
            return Stop();
        }

        type = (ushort)(MemoryMarshal.Read<ushort>(_rest[2..]) & ~NetlinkFormat.AttributeFlagBits);
        value = _rest[NetlinkFormat.AttributeHeaderLength..length];
        var next = NetlinkFormat.Align(length);
        _rest = next >= _rest.Length ? default : _rest[next..];
        _read++;
        return true;
    }

    private bool Stop()
    {
        Malformed = true;
        _rest = default;
        return false;
    }
}
