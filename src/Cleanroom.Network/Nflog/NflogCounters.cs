namespace Cleanroom.Network.Nflog;

/// <summary>The reader's counters: written by the receive thread, read by anyone through <see cref="Snapshot"/>.</summary>
internal sealed class NflogCounters
{
    public long Datagrams;
    public long Packets;
    public long Reported;
    public long Suppressed;
    public long Unattributed;
    public long HandlerFailures;
    public long Malformed;
    public long Truncated;
    public long ForeignSenders;
    public long KernelDrops;

    public NflogReaderStatistics Snapshot() => new(
        Interlocked.Read(ref Datagrams),
        Interlocked.Read(ref Packets),
        Interlocked.Read(ref Reported),
        Interlocked.Read(ref Suppressed),
        Interlocked.Read(ref Unattributed),
        Interlocked.Read(ref HandlerFailures),
        Interlocked.Read(ref Malformed),
        Interlocked.Read(ref Truncated),
        Interlocked.Read(ref ForeignSenders),
        Interlocked.Read(ref KernelDrops));
}
