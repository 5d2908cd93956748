namespace Cleanroom.Network.Guard.Queue;

/// <summary>What the queue guard saw and decided; updated by its one thread, read by anyone.</summary>
public sealed class QueueGuardStatistics
{
    private long _packets;
    private long _acceptedAtOnce;
    private long _held;
    private long _released;
    private long _dropped;
    private long _flows;
    private long _allowedNamed;
    private long _allowedUnnamed;
    private long _denied;
    private long _refusedUnreadable;
    private long _refusedDestination;
    private long _rejectedOverLimit;
    private long _rejectedUnknownSource;
    private long _unknownFlow;
    private long _unparsable;
    private long _kernelDrops;
    private long _markFailures;
    private long _evicted;
    private long _trackedFlows;
    private long _heldPacketsNow;
    private long _heldBytesNow;

    /// <summary>Undecided connections now (as of the last batch the queue thread handled).</summary>
    public long TrackedFlows => Interlocked.Read(ref _trackedFlows);

    /// <summary>Packets held now.</summary>
    public long HeldPacketsNow => Interlocked.Read(ref _heldPacketsNow);

    /// <summary>Payload bytes held now.</summary>
    public long HeldBytesNow => Interlocked.Read(ref _heldBytesNow);

    /// <summary>Packets read from the queue.</summary>
    public long Packets => Interlocked.Read(ref _packets);

    /// <summary>Packets accepted when they arrived (handshakes, pure acknowledgements, decided connections).</summary>
    public long AcceptedAtOnce => Interlocked.Read(ref _acceptedAtOnce);

    /// <summary>Packets held until their connection's first message was decided.</summary>
    public long Held => Interlocked.Read(ref _held);

    /// <summary>Held packets accepted once their connection was allowed.</summary>
    public long Released => Interlocked.Read(ref _released);

    /// <summary>Packets dropped (denied, unreadable, over a bound, duplicates of held bytes).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Connections tracked from their handshake.</summary>
    public long Flows => Interlocked.Read(ref _flows);

    /// <summary>Connections whose first message named only allowed hosts.</summary>
    public long AllowedNamed => Interlocked.Read(ref _allowedNamed);

    /// <summary>Connections whose first message named no host (another protocol), or that closed without one.</summary>
    public long AllowedUnnamed => Interlocked.Read(ref _allowedUnnamed);

    /// <summary>Connections whose first message named a host the policy does not allow there.</summary>
    public long Denied => Interlocked.Read(ref _denied);

    /// <summary>Connections refused because the first message could not be read (malformed, too long, too slow, conflicting retransmits).</summary>
    public long RefusedUnreadable => Interlocked.Read(ref _refusedUnreadable);

    /// <summary>Handshakes refused because the destination is not learned (or is blocked) for the sandbox.</summary>
    public long RefusedDestination => Interlocked.Read(ref _refusedDestination);

    /// <summary>Handshakes or connections refused because a bound on flows or held packets was reached.</summary>
    public long RejectedOverLimit => Interlocked.Read(ref _rejectedOverLimit);

    /// <summary>Packets from an address no sandbox has.</summary>
    public long RejectedUnknownSource => Interlocked.Read(ref _rejectedUnknownSource);

    /// <summary>Payload for a connection whose handshake the guard never saw (or long forgot): dropped and refused.</summary>
    public long UnknownFlow => Interlocked.Read(ref _unknownFlow);

    /// <summary>Packets that were not one readable TCP segment (dropped).</summary>
    public long Unparsable => Interlocked.Read(ref _unparsable);

    /// <summary>Times the kernel reported messages lost to a full socket buffer (those packets were dropped).</summary>
    public long KernelDrops => Interlocked.Read(ref _kernelDrops);

    /// <summary>Times a connection's conntrack mark could not be set (the connection was then refused).</summary>
    public long MarkFailures => Interlocked.Read(ref _markFailures);

    /// <summary>Undecided connections forgotten after <see cref="QueueGuardOptions.IdleTimeout"/>.</summary>
    public long Evicted => Interlocked.Read(ref _evicted);

    internal void CountPacket() => Interlocked.Increment(ref _packets);

    internal void CountAcceptedAtOnce() => Interlocked.Increment(ref _acceptedAtOnce);

    internal void CountHeld() => Interlocked.Increment(ref _held);

    internal void CountReleased(int count) => Interlocked.Add(ref _released, count);

    internal void CountDropped(int count = 1) => Interlocked.Add(ref _dropped, count);

    internal void CountFlow() => Interlocked.Increment(ref _flows);

    internal void CountAllowedNamed() => Interlocked.Increment(ref _allowedNamed);

    internal void CountAllowedUnnamed() => Interlocked.Increment(ref _allowedUnnamed);

    internal void CountDenied() => Interlocked.Increment(ref _denied);

    internal void CountRefusedUnreadable() => Interlocked.Increment(ref _refusedUnreadable);

    internal void CountRefusedDestination() => Interlocked.Increment(ref _refusedDestination);

    internal void CountRejectedOverLimit() => Interlocked.Increment(ref _rejectedOverLimit);

    internal void CountRejectedUnknownSource() => Interlocked.Increment(ref _rejectedUnknownSource);

    internal void CountUnknownFlow() => Interlocked.Increment(ref _unknownFlow);

    internal void CountUnparsable() => Interlocked.Increment(ref _unparsable);

    internal void CountKernelDrop() => Interlocked.Increment(ref _kernelDrops);

    internal void CountMarkFailure() => Interlocked.Increment(ref _markFailures);

    internal void CountEvicted() => Interlocked.Increment(ref _evicted);

    internal void SetGauges(int flows, int heldPackets, long heldBytes)
    {
        Interlocked.Exchange(ref _trackedFlows, flows);
        Interlocked.Exchange(ref _heldPacketsNow, heldPackets);
        Interlocked.Exchange(ref _heldBytesNow, heldBytes);
    }
}
