namespace Cleanroom.Network.Dns;

/// <summary>
/// Opens the firewall for the addresses of an allowed answer. The DNS filter awaits it before it answers the guest,
/// so the guest's first connection to an answer never races the firewall.
/// </summary>
public interface IEgressAllowance
{
    /// <param name="client">Who asked.</param>
    /// <param name="name">The normalised name the guest asked for (the policy decides its ports).</param>
    /// <param name="addresses">A and AAAA records of the answer (CNAME chains already followed).</param>
    Task AllowAsync(DnsClient client, string name, IReadOnlyList<ResolvedAddress> addresses, CancellationToken ct);
}
