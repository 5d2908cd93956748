using System.Security.Cryptography;
using System.Text;
using Cleanroom.Gateway.Cache;
using Cleanroom.Gateway.Server;
using Cleanroom.Gateway.Upstream;

namespace Cleanroom.Gateway.Routes;

/// <summary>
/// Remembers where redirects took the fetch that filled a cache entry, so that serving the entry later (to another
/// sandbox, or to a waiter that joined someone else's fetch) checks those hosts against the policy of the request
/// being answered: a cache hit must not reach content that the asker's policy would not have let it fetch.
/// </summary>
internal static class RedirectRecords
{
    private const int MaxRecordBytes = 8 << 10;

    /// <summary>Stores the redirect hops of a fill (nothing when there were none).</summary>
    public static async Task RecordAsync(ContentCache cache, CacheKey key, UpstreamResponse response, CancellationToken cancellationToken)
    {
        if (response.RedirectHops.Count == 0)
        {
            return;
        }

        var text = Encoding.UTF8.GetBytes(string.Join('\n', response.RedirectHops));
        await cache.PutAsync(RecordKey(key), new MemoryStream(text), CacheEntryOptions.Immutable, cancellationToken);
    }

    /// <summary>Refuses (403 <c>host_not_allowed</c>) when a hop that filled the entry is not allowed for this request.</summary>
    public static async Task CheckAsync(ContentCache cache, CacheKey key, GatewayRequest request)
    {
        if (cache.Lookup(RecordKey(key)).Entry is not { } record || record.Size > MaxRecordBytes)
        {
            return;
        }

        string text;
        var stream = cache.OpenRead(record) ?? throw new GatewayRefusalException(
            502, ReasonCode.UpstreamError, "the record of the redirects behind a cached answer is gone; try again");
        await using (stream)
        {
            using var reader = new StreamReader(stream, Encoding.UTF8);
            text = await reader.ReadToEndAsync(request.Aborted);
        }

        foreach (var hop in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var colon = hop.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(hop.AsSpan(colon + 1), out var port) || !UpstreamClient.Allowed(request.Client, hop[..colon], port))
            {
                throw new GatewayRefusalException(
                    403, ReasonCode.HostNotAllowed, $"the cached answer came through a redirect to {hop[..Math.Max(colon, 0)]}, which the sandbox's network policy does not allow");
            }
        }
    }

    private static CacheKey RecordKey(CacheKey key) =>
        new(key.Protocol, "redirects", key.Kind + "|" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key.ToString()))));
}
