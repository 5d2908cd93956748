using System.Security.Cryptography;
using System.Text;
using Cleanroom.Gateway.Cache;

namespace Cleanroom.Gateway.Server;

/// <summary>
/// Builds the cache keys of gateway objects: <c>scope|part|part…</c>. A literal <c>|</c> inside a part is written
/// <c>%7C</c> so parts cannot run into each other; a key that would be too long is replaced by its SHA-256.
/// </summary>
internal static class GatewayKeys
{
    public static CacheKey Make(string protocol, string kind, string scope, params string[] parts)
    {
        // Every cache hit builds its key: a plain loop, no LINQ, and Replace only allocates when a part holds a '|'.
        var escaped = new string[parts.Length + 1];
        escaped[0] = scope;
        for (var i = 0; i < parts.Length; i++)
        {
            escaped[i + 1] = parts[i].Replace("|", "%7C", StringComparison.Ordinal);
        }

        var text = string.Join('|', escaped);
        if (text.Length > CacheKey.MaxKeyLength)
        {
            text = scope + "|sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
        }

        return new CacheKey(protocol, kind, text);
    }
}
