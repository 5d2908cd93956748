using Cleanroom.Policy;

namespace Cleanroom.Network.Dns;

/// <summary>
/// The sandbox behind a guest address, as the DNS filter sees it: whose queries these are and which names they may
/// resolve. <paramref name="AllowAll"/> is set for sandboxes created with <c>--dangerously-allow-all</c>.
/// </summary>
public sealed record DnsClient(string SandboxId, NetworkPolicy Policy, bool AllowAll);
