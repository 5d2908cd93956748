using Cleanroom.Policy;

namespace Cleanroom.Network.Dns;

/// <summary>
/// The sandbox behind a guest address, as the DNS filter sees it: whose queries these are and which names they may
/// resolve. <paramref name="AllowAll"/> is set for sandboxes created with <c>--dangerously-allow-all</c>;
/// <paramref name="Ipv6"/> when the sandbox has an IPv6 link (AAAA questions get no addresses otherwise).
/// </summary>
public sealed record DnsClient(string SandboxId, NetworkPolicy Policy, bool AllowAll, bool Ipv6 = true);
