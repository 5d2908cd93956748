using Cleanroom.Network.Links;
using Cleanroom.Policy;

namespace Cleanroom.Network.Firewall;

/// <summary>What the firewall needs to know about one sandbox: its link and what it may reach.</summary>
/// <param name="Link">The sandbox's TAP, addresses and MAC.</param>
/// <param name="Policy">The compiled egress rules.</param>
/// <param name="AllowAll">Created with <c>--dangerously-allow-all</c>: any destination except the always-blocked ones.</param>
public sealed record SandboxFirewall(SandboxLink Link, NetworkPolicy Policy, bool AllowAll);
