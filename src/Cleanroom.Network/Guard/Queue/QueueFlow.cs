using Cleanroom.Network.Dns;

namespace Cleanroom.Network.Guard.Queue;

/// <summary>A packet the guard holds without a verdict: its kernel id and where it sits in the stream.</summary>
internal readonly record struct HeldPacket(uint Id, long Offset, int Arrival, int PayloadBytes);

/// <summary>
/// One guest connection whose first message is not decided yet: from its handshake (which gives the stream's first
/// sequence number, so no later segment can move the start) to its decision.
/// </summary>
internal sealed class QueueFlow(FlowKey key, DnsClient client, uint initialSequence, int capacity, DateTimeOffset now)
{
    public FlowKey Key { get; } = key;

    public DnsClient Client { get; } = client;

    /// <summary>The handshake's sequence number (a retransmitted SYN must carry the same one).</summary>
    public uint InitialSequence { get; private set; } = initialSequence;

    /// <summary>The sequence number of the stream's first byte (the SYN takes one).</summary>
    public uint StreamStart => unchecked(InitialSequence + 1);

    public StreamReassembly Stream { get; private set; } = new(capacity);

    public List<HeldPacket> Held { get; } = [];

    public int HeldBytes { get; set; }

    /// <summary>Where the guest's FIN sits in the stream, once one arrived.</summary>
    public long? FinOffset { get; set; }

    public DateTimeOffset LastSeen { get; set; } = now;

    /// <summary>When the first payload byte arrived: the first message's clock starts there (a silent client is only idle).</summary>
    public DateTimeOffset? FirstDataAt { get; set; }

    private int _arrivals;

    public int NextArrival() => _arrivals++;

    /// <summary>A new handshake on the same ports before any data: the guest started over (its first SYN went unanswered).</summary>
    public void Restart(uint initialSequence, int capacity)
    {
        InitialSequence = initialSequence;
        Stream = new StreamReassembly(capacity);
        FinOffset = null;
    }
}
