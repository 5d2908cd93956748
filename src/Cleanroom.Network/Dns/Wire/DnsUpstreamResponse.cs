namespace Cleanroom.Network.Dns.Wire;

/// <summary>An upstream's answer to the filter's own query, reduced to what the filter may pass on.</summary>
/// <param name="ResponseCode">The upstream's response code.</param>
/// <param name="Truncated">TC was set: the answer must be fetched again over TCP.</param>
/// <param name="Answers">The answer section's IN records of the types the filter copies (empty when truncated).</param>
internal sealed record DnsUpstreamResponse(DnsResponseCode ResponseCode, bool Truncated, IReadOnlyList<DnsRecord> Answers);
