using System.Net;
using Cleanroom.Policy;

namespace Cleanroom.Network.Dns;

/// <summary>
/// The sandbox behind a guest address, as the DNS filter sees it: whose queries these are and which names they may
/// resolve. <paramref name="AllowAll"/> is set for sandboxes created with <c>--dangerously-allow-all</c>;
/// <paramref name="Ipv6"/> when the sandbox has an IPv6 link (AAAA questions get no addresses otherwise).
/// <paramref name="GatewayAddress"/> and <paramref name="GatewayAddress6"/> are the host ends of its link: what the
/// gateway's name (<see cref="DnsFilterOptions.GatewayName"/>) resolves to for this guest.
/// </summary>
public sealed record DnsClient(
    string SandboxId, NetworkPolicy Policy, bool AllowAll, bool Ipv6 = true, IPAddress? GatewayAddress = null, IPAddress? GatewayAddress6 = null);
