using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Cleanroom.Network.Nflog;

/// <summary>Builds one netlink request: header, a fixed family header, then aligned attributes.</summary>
internal sealed class NetlinkRequestBuilder
{
    private readonly List<byte> _bytes = new(64);

    public NetlinkRequestBuilder(ushort type, ushort flags, uint sequence)
    {
        Span<byte> header = stackalloc byte[NetlinkFormat.MessageHeaderLength];
        // The length is filled in by Build.
        MemoryMarshal.Write(header[4..], in type);
        MemoryMarshal.Write(header[6..], in flags);
        MemoryMarshal.Write(header[8..], in sequence);
        _bytes.AddRange(header);
    }

    /// <summary>Appends bytes that follow the header unframed (e.g. struct nfgenmsg), padded to the alignment.</summary>
    public NetlinkRequestBuilder Fixed(ReadOnlySpan<byte> value)
    {
        _bytes.AddRange(value);
        Pad();
        return this;
    }

    public NetlinkRequestBuilder Attribute(ushort type, ReadOnlySpan<byte> value)
    {
        var length = checked((ushort)(NetlinkFormat.AttributeHeaderLength + value.Length));
        Span<byte> header = stackalloc byte[NetlinkFormat.AttributeHeaderLength];
        MemoryMarshal.Write(header, in length);
        MemoryMarshal.Write(header[2..], in type);
        _bytes.AddRange(header);
        _bytes.AddRange(value);
        Pad();
        return this;
    }

    public NetlinkRequestBuilder AttributeBigEndian(ushort type, uint value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return Attribute(type, bytes);
    }

    public byte[] Build()
    {
        var message = _bytes.ToArray();
        MemoryMarshal.Write(message, (uint)message.Length);
        return message;
    }

    private void Pad()
    {
        while (_bytes.Count % NetlinkFormat.Alignment != 0)
        {
            _bytes.Add(0);
        }
    }
}
