using Cleanroom.Network.Dns.Wire;

namespace Cleanroom.Network.Dns;

/// <summary>
/// What the filter does with one message, decided without waiting: drop it, send <see cref="Response"/> at once, or
/// resolve <see cref="Lookup"/> upstream (the only case that takes time and so counts against the in-flight bounds).
/// </summary>
internal readonly record struct DnsDecision(byte[]? Response, DnsLookup? Lookup)
{
    public static DnsDecision Drop => default;

    public static DnsDecision Respond(byte[] response) => new(response, null);

    public static DnsDecision Resolve(DnsLookup lookup) => new(null, lookup);
}

/// <summary>An allowed query that needs an upstream answer.</summary>
/// <param name="Query">The guest's query.</param>
/// <param name="Name">The name as the policy saw it, lowercased: what the firewall is opened for.</param>
/// <param name="MaxResponseLength">How long the answer may be on the guest's transport.</param>
internal sealed record DnsLookup(DnsQuery Query, string Name, int MaxResponseLength);
