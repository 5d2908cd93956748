using System.Net;

namespace Cleanroom.Network.Dns;

/// <summary>One address from an allowed answer and how long the upstream said it holds.</summary>
public sealed record ResolvedAddress(IPAddress Address, TimeSpan Ttl);
