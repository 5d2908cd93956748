using Cleanroom.Policy;

namespace Cleanroom.Gateway.Server;

/// <summary>
/// The sandbox a gateway request came from, found by the connection's source address (which the firewall has
/// checked against the sandbox's TAP, so a guest cannot claim another's), and the policy its upstream requests obey.
/// </summary>
/// <param name="SandboxId">The sandbox.</param>
/// <param name="Policy">Its network policy: an upstream host must be allowed on port 443.</param>
/// <param name="AllowAll">Created with <c>--dangerously-allow-all</c>: every host is allowed.</param>
public sealed record GatewayClient(string SandboxId, NetworkPolicy Policy, bool AllowAll);
