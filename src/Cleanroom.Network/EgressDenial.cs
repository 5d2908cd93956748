namespace Cleanroom.Network;

/// <summary>
/// One blocked attempt to leave a sandbox: a refused DNS query or a dropped connection. <see cref="Destination"/>
/// is guest-controlled text and is escaped before it is stored or shown.
/// </summary>
/// <param name="SandboxId">The sandbox it came from.</param>
/// <param name="Time">When it was seen (UTC).</param>
/// <param name="Destination">The name queried or the address dialled.</param>
/// <param name="Port">The destination port; 53 for a DNS query; 0 where there is none (ICMP).</param>
/// <param name="Protocol"><c>dns</c>, <c>tcp</c>, <c>udp</c>, <c>icmp</c> or another IP protocol name.</param>
/// <param name="Reason">A reason code, e.g. <c>host_not_allowed</c>.</param>
public sealed record EgressDenial(string SandboxId, DateTimeOffset Time, string Destination, int Port, string Protocol, string Reason);
