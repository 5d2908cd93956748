namespace Cleanroom.Network.Guard;

/// <summary>Running counts of what the connection guard did, for status output and for tests. Safe to read from any thread.</summary>
public sealed class ConnectionGuardStatistics
{
    private long _accepted;
    private long _open;
    private long _rejectedUnknownSource;
    private long _rejectedNotRedirected;
    private long _rejectedOverLimit;
    private long _refusedDestination;
    private long _upstreamFailures;
    private long _allowedNamed;
    private long _allowedUnnamed;
    private long _denied;
    private long _refusedUnreadable;
    private long _idleTimeouts;
    private long _splicedDirections;

    /// <summary>Connections accepted from any source.</summary>
    public long Accepted => Interlocked.Read(ref _accepted);

    /// <summary>Connections being served right now (after the limits admitted them).</summary>
    public long Open => Interlocked.Read(ref _open);

    /// <summary>Reset on arrival: the source is not a sandbox.</summary>
    public long RejectedUnknownSource => Interlocked.Read(ref _rejectedUnknownSource);

    /// <summary>Reset on arrival: the kernel knows no original destination (not redirected), or it is the guard itself.</summary>
    public long RejectedNotRedirected => Interlocked.Read(ref _rejectedNotRedirected);

    /// <summary>Reset on arrival: the sandbox, or all sandboxes together, had too many open.</summary>
    public long RejectedOverLimit => Interlocked.Read(ref _rejectedOverLimit);

    /// <summary>Reset: the destination is no longer learned for the sandbox, is blocked, or is the host's own.</summary>
    public long RefusedDestination => Interlocked.Read(ref _refusedDestination);

    /// <summary>Reset: the original destination could not be reached in time.</summary>
    public long UpstreamFailures => Interlocked.Read(ref _upstreamFailures);

    /// <summary>Relayed: every name the first message carried is allowed.</summary>
    public long AllowedNamed => Interlocked.Read(ref _allowedNamed);

    /// <summary>Relayed without a name: another protocol, a ClientHello without a server name, or no bytes from the guest at all.</summary>
    public long AllowedUnnamed => Interlocked.Read(ref _allowedUnnamed);

    /// <summary>Reset: the first message named a host the policy does not allow on the port.</summary>
    public long Denied => Interlocked.Read(ref _denied);

    /// <summary>Reset: the first message looked like TLS or HTTP but was malformed, too long, or not finished in time.</summary>
    public long RefusedUnreadable => Interlocked.Read(ref _refusedUnreadable);

    /// <summary>Reset: nothing moved in either direction for the idle timeout.</summary>
    public long IdleTimeouts => Interlocked.Read(ref _idleTimeouts);

    /// <summary>Relay directions that moved enough bytes to switch to splice(2) (see <see cref="ConnectionGuardOptions.SpliceAfterBytes"/>).</summary>
    public long SplicedDirections => Interlocked.Read(ref _splicedDirections);

    internal void CountAccepted() => Interlocked.Increment(ref _accepted);

    internal void CountOpened() => Interlocked.Increment(ref _open);

    internal void CountClosed() => Interlocked.Decrement(ref _open);

    internal void CountRejectedUnknownSource() => Interlocked.Increment(ref _rejectedUnknownSource);

    internal void CountRejectedNotRedirected() => Interlocked.Increment(ref _rejectedNotRedirected);

    internal void CountRejectedOverLimit() => Interlocked.Increment(ref _rejectedOverLimit);

    internal void CountRefusedDestination() => Interlocked.Increment(ref _refusedDestination);

    internal void CountUpstreamFailure() => Interlocked.Increment(ref _upstreamFailures);

    internal void CountAllowedNamed() => Interlocked.Increment(ref _allowedNamed);

    internal void CountAllowedUnnamed() => Interlocked.Increment(ref _allowedUnnamed);

    internal void CountDenied() => Interlocked.Increment(ref _denied);

    internal void CountRefusedUnreadable() => Interlocked.Increment(ref _refusedUnreadable);

    internal void CountIdleTimeout() => Interlocked.Increment(ref _idleTimeouts);

    internal void CountSpliced() => Interlocked.Increment(ref _splicedDirections);
}
