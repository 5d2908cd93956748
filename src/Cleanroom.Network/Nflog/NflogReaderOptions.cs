namespace Cleanroom.Network.Nflog;

/// <summary>How the NFLOG reader subscribes and how much it lets through.</summary>
public sealed class NflogReaderOptions
{
    /// <summary>The group the ruleset's <c>log group N</c> rules name.</summary>
    public required ushort Group { get; init; }

    /// <summary>
    /// Bytes of each packet the kernel copies (NFULNL_COPY_PACKET's range): enough for the IP header, a few IPv6
    /// extension headers and the ports. At least 64 (an IPv4 header with options and the ports).
    /// </summary>
    public int CopyRange { get; init; } = 128;

    /// <summary>Longest time the kernel holds logged packets to batch them (rounded to 10 ms).</summary>
    public TimeSpan FlushTimeout { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The socket's receive buffer; a burst larger than this is lost and counted as kernel drops.</summary>
    public int ReceiveBufferBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>Average audit events per second per sandbox; more are counted as suppressed.</summary>
    public double EventsPerSecondPerSandbox { get; init; } = 10;

    /// <summary>Audit events a sandbox may report at once before the average applies.</summary>
    public int BurstPerSandbox { get; init; } = 20;

    /// <summary>
    /// A network namespace to subscribe in (e.g. <c>/run/netns/NAME</c>); null for the daemon's own. NFLOG groups
    /// are per namespace: the reader must be where the ruleset is.
    /// </summary>
    public string? NetworkNamespacePath { get; init; }

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(CopyRange, 64, nameof(CopyRange));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(CopyRange, NflogProtocol.MaxCopyRange, nameof(CopyRange));
        ArgumentOutOfRangeException.ThrowIfLessThan(FlushTimeout, TimeSpan.FromMilliseconds(10), nameof(FlushTimeout));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(FlushTimeout, TimeSpan.FromSeconds(10), nameof(FlushTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThan(ReceiveBufferBytes, 64 * 1024, nameof(ReceiveBufferBytes));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(EventsPerSecondPerSandbox, nameof(EventsPerSecondPerSandbox));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(BurstPerSandbox, nameof(BurstPerSandbox));
    }
}
