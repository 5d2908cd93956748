namespace Cleanroom.Gateway.Cache;

/// <summary>Where a <see cref="ContentCache.GetOrFetchAsync"/> answer came from.</summary>
public enum CacheOutcome
{
    /// <summary>A fresh entry was in the cache.</summary>
    Hit,

    /// <summary>Fetched from upstream now (by this caller's flight or one it joined) and stored.</summary>
    Fetched,

    /// <summary>The upstream failed and an expired entry stands in; the response should say so.</summary>
    Stale,
}

/// <summary>An entry to serve, and how it was obtained.</summary>
/// <param name="Outcome">Hit, fetched or stale.</param>
/// <param name="Entry">The entry; open its body with <see cref="ContentCache.OpenRead(CacheResult)"/> (which does not count a fetched answer's read as a hit).</param>
/// <param name="UpstreamFailure">Why the upstream could not refresh a stale entry; null otherwise.</param>
public sealed record CacheResult(CacheOutcome Outcome, CacheEntry Entry, Exception? UpstreamFailure = null);
