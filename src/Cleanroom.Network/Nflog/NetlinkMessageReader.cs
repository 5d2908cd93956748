using System.Runtime.InteropServices;

namespace Cleanroom.Network.Nflog;

/// <summary>One netlink message: its header fields and the bytes after the header (bounded by its declared length).</summary>
internal readonly ref struct NetlinkMessage
{
    public NetlinkMessage(ushort type, ushort flags, uint sequence, ReadOnlySpan<byte> payload)
    {
        Type = type;
        Flags = flags;
        Sequence = sequence;
        Payload = payload;
    }

    public ushort Type { get; }

    public ushort Flags { get; }

    public uint Sequence { get; }

    public ReadOnlySpan<byte> Payload { get; }
}

/// <summary>
/// Walks the messages of one datagram. A header whose length is shorter than a header or runs past the datagram ends
/// the walk and sets <see cref="Malformed"/>: after a lying length there is no trustworthy place to resume.
/// </summary>
internal ref struct NetlinkMessageReader
{
    private ReadOnlySpan<byte> _rest;

    public NetlinkMessageReader(ReadOnlySpan<byte> datagram)
    {
        _rest = datagram;
    }

    /// <summary>True when the walk stopped at bytes that are not a well-formed message.</summary>
    public bool Malformed { get; private set; }

    public bool TryRead(out NetlinkMessage message)
    {
        message = default;
        if (_rest.IsEmpty)
        {
            return false;
        }

        if (_rest.Length < NetlinkFormat.MessageHeaderLength)
        {
            return Stop();
        }

        var length = MemoryMarshal.Read<uint>(_rest);
        if (length < NetlinkFormat.MessageHeaderLength || length > (uint)_rest.Length)
        {
            return Stop();
        }

        var type = MemoryMarshal.Read<ushort>(_rest[4..]);
        var flags = MemoryMarshal.Read<ushort>(_rest[6..]);
        var sequence = MemoryMarshal.Read<uint>(_rest[8..]);
        message = new NetlinkMessage(type, flags, sequence, _rest[NetlinkFormat.MessageHeaderLength..(int)length]);

        // The last message may lack its trailing padding.
        var next = NetlinkFormat.Align((int)length);
        _rest = next >= _rest.Length ? default : _rest[next..];
        return true;
    }

    private bool Stop()
    {
        Malformed = true;
        _rest = default;
        return false;
    }
}
