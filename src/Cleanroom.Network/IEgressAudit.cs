namespace Cleanroom.Network;

/// <summary>
/// Where blocked attempts go (the sandbox's events and the audit log). Must not block the caller and must bound what a
/// guest can make it store: implementations rate-limit per sandbox.
/// </summary>
public interface IEgressAudit
{
    void Denied(EgressDenial denial);
}
