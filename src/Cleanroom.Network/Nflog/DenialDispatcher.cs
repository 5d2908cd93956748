using Microsoft.Extensions.Logging;

namespace Cleanroom.Network.Nflog;

/// <summary>
/// From a datagram to audit events: parse the logged packets, find each one's sandbox, apply the sandbox's rate, and
/// hand an <see cref="EgressDenial"/> to the audit. Nothing here throws back into the receive loop: failures of the
/// lookup or the audit are counted, and logged the first time.
/// </summary>
internal sealed class DenialDispatcher
{
    /// <summary>The reason every firewall-dropped packet carries; a refused DNS query has its own.</summary>
    public const string Reason = "host_not_allowed";

    private readonly ushort _group;
    private readonly Func<LoggedPacket, string?> _sandboxOf;
    private readonly IEgressAudit _audit;
    private readonly SandboxRateLimiter _limiter;
    private readonly NflogCounters _counters;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Action<LoggedPacket> _onPacket;
    private bool _handlerFailureLogged;
    private bool _malformedLogged;

    public DenialDispatcher(
        ushort group,
        Func<LoggedPacket, string?> sandboxOf,
        IEgressAudit audit,
        SandboxRateLimiter limiter,
        NflogCounters counters,
        TimeProvider time,
        ILogger logger)
    {
        _group = group;
        _sandboxOf = sandboxOf;
        _audit = audit;
        _limiter = limiter;
        _counters = counters;
        _time = time;
        _logger = logger;
        _onPacket = Handle;
    }

    public void Dispatch(ReadOnlySpan<byte> datagram)
    {
        Interlocked.Increment(ref _counters.Datagrams);
        var tally = NflogDatagramParser.Parse(datagram, _group, _onPacket);
        if (tally.Malformed > 0)
        {
            Interlocked.Add(ref _counters.Malformed, tally.Malformed);
            if (!_malformedLogged)
            {
                _malformedLogged = true;
                _logger.LogWarning(
                    "NFLOG group {Group}: skipped a message that is not a well-formed logged packet; further ones are only counted.",
                    _group);
            }
        }

        if (tally.KernelDropped > 0)
        {
            Interlocked.Add(ref _counters.KernelDrops, tally.KernelDropped);
        }
    }

    private void Handle(LoggedPacket packet)
    {
        Interlocked.Increment(ref _counters.Packets);
        try
        {
            var sandboxId = _sandboxOf(packet);
            if (sandboxId is null)
            {
                Interlocked.Increment(ref _counters.Unattributed);
                return;
            }

            if (!_limiter.TryTake(sandboxId))
            {
                Interlocked.Increment(ref _counters.Suppressed);
                return;
            }

            _audit.Denied(new EgressDenial(
                sandboxId,
                _time.GetUtcNow(),
                packet.Destination.ToString(),
                packet.DestinationPort,
                packet.ProtocolName,
                Reason));
            Interlocked.Increment(ref _counters.Reported);
        }
#pragma warning disable CA1031 // A failing lookup or audit must not end the reader; it is counted and logged once.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Interlocked.Increment(ref _counters.HandlerFailures);
            if (!_handlerFailureLogged)
            {
                _handlerFailureLogged = true;
                _logger.LogError(ex, "NFLOG group {Group}: the sandbox lookup or the egress audit failed; further failures are only counted.", _group);
            }
        }
    }
}
