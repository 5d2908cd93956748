using System.Net;

namespace Cleanroom.Network.Guard.Queue;

/// <summary>
/// One TCP connection as the guest's packets name it: addresses (an IPv4 address in the low 32 bits) and ports, in
/// the guest-to-server direction. The conntrack entry's original tuple is the same five values.
/// </summary>
internal readonly record struct FlowKey(bool V6, UInt128 Source, UInt128 Destination, ushort SourcePort, ushort DestinationPort)
{
    public IPAddress SourceAddress => ToAddress(Source);

    public IPAddress DestinationAddress => ToAddress(Destination);

    /// <summary>The address's bytes in network order (4 or 16).</summary>
    public byte[] AddressBytes(UInt128 value)
    {
        var bytes = new byte[V6 ? 16 : 4];
        for (var i = bytes.Length - 1; i >= 0; i--)
        {
            bytes[i] = (byte)value;
            value >>= 8;
        }

        return bytes;
    }

    public static UInt128 FromBytes(ReadOnlySpan<byte> bytes)
    {
        UInt128 value = 0;
        foreach (var b in bytes)
        {
            value = (value << 8) | b;
        }

        return value;
    }

    private IPAddress ToAddress(UInt128 value) => new(AddressBytes(value));
}
