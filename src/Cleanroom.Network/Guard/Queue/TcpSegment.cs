namespace Cleanroom.Network.Guard.Queue;

/// <summary>The TCP header flags the guard acts on.</summary>
[Flags]
internal enum TcpFlags : byte
{
    None = 0,
    Fin = 0x01,
    Syn = 0x02,
    Rst = 0x04,
    Psh = 0x08,
    Ack = 0x10,
}

/// <summary>One TCP segment from a guest: its connection, sequence number, flags and payload (guest bytes).</summary>
internal readonly ref struct TcpSegment
{
    public TcpSegment(FlowKey key, uint sequence, TcpFlags flags, ReadOnlySpan<byte> payload)
    {
        Key = key;
        Sequence = sequence;
        Flags = flags;
        Payload = payload;
    }

    public FlowKey Key { get; }

    public uint Sequence { get; }

    public TcpFlags Flags { get; }

    public ReadOnlySpan<byte> Payload { get; }

    public bool Has(TcpFlags flag) => (Flags & flag) == flag;
}
