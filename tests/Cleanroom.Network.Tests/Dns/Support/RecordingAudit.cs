using System.Collections.Concurrent;

namespace Cleanroom.Network.Tests.Dns.Support;

/// <summary>Collects denials as the audit log would receive them.</summary>
internal sealed class RecordingAudit : IEgressAudit
{
    private readonly ConcurrentQueue<EgressDenial> _denials = new();

    public IReadOnlyCollection<EgressDenial> Denials => _denials;

    public void Denied(EgressDenial denial) => _denials.Enqueue(denial);
}
