namespace Cleanroom.Network.Dns;

/// <summary>
/// Running counts of what the DNS filter did with what it received, for status output and for tests that must know a
/// datagram was dropped (a drop has no other visible effect). Safe to read from any thread.
/// </summary>
public sealed class DnsFilterStatistics
{
    private long _received;
    private long _answered;
    private long _refused;
    private long _droppedUnknownSource;
    private long _droppedMalformed;
    private long _droppedOverLimit;
    private long _upstreamFailures;
    private long _rejectedConnections;

    /// <summary>Datagrams and TCP messages received from any source.</summary>
    public long Received => Interlocked.Read(ref _received);

    /// <summary>Answers sent to guests, whatever their response code.</summary>
    public long Answered => Interlocked.Read(ref _answered);

    /// <summary>Queries refused because the policy does not allow the name.</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>Messages from addresses that are not a sandbox's, dropped without an answer.</summary>
    public long DroppedUnknownSource => Interlocked.Read(ref _droppedUnknownSource);

    /// <summary>Messages too short, too long or not queries, dropped without an answer.</summary>
    public long DroppedMalformed => Interlocked.Read(ref _droppedMalformed);

    /// <summary>Queries dropped because their sandbox, or all sandboxes together, had too many in flight.</summary>
    public long DroppedOverLimit => Interlocked.Read(ref _droppedOverLimit);

    /// <summary>Queries answered SERVFAIL because no upstream gave a usable answer in time.</summary>
    public long UpstreamFailures => Interlocked.Read(ref _upstreamFailures);

    /// <summary>TCP connections closed on arrival: unknown source or too many open.</summary>
    public long RejectedConnections => Interlocked.Read(ref _rejectedConnections);

    internal void CountReceived() => Interlocked.Increment(ref _received);

    internal void CountAnswered() => Interlocked.Increment(ref _answered);

    internal void CountRefused() => Interlocked.Increment(ref _refused);

    internal void CountDroppedUnknownSource() => Interlocked.Increment(ref _droppedUnknownSource);

    internal void CountDroppedMalformed() => Interlocked.Increment(ref _droppedMalformed);

    internal void CountDroppedOverLimit() => Interlocked.Increment(ref _droppedOverLimit);

    internal void CountUpstreamFailure() => Interlocked.Increment(ref _upstreamFailures);

    internal void CountRejectedConnection() => Interlocked.Increment(ref _rejectedConnections);
}
