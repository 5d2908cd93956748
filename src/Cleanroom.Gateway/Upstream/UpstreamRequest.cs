namespace Cleanroom.Gateway.Upstream;

/// <summary>What a route asks the upstream for: the guest's host name, a checked raw path and the headers it may pass on.</summary>
/// <param name="Method">GET, HEAD or POST.</param>
/// <param name="Host">The normalised host name the guest asked for (the one the policy checks).</param>
/// <param name="PathAndQuery">The raw path and query, starting with <c>/</c>, already canonicalised.</param>
/// <param name="Headers">The only request headers sent (routes pick them from an allow list).</param>
/// <param name="Body">The request body (bounded, already decoded), or null.</param>
internal sealed record UpstreamRequest(
    HttpMethod Method, string Host, string PathAndQuery, IReadOnlyList<KeyValuePair<string, string>> Headers, byte[]? Body = null);
