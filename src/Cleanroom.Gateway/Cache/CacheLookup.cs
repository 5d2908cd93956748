namespace Cleanroom.Gateway.Cache;

/// <summary>How usable a key's cached entry is.</summary>
public enum CacheFreshness
{
    /// <summary>No entry (or its blob is gone).</summary>
    Missing,

    /// <summary>An immutable entry, or a mutable one within its TTL: serve it.</summary>
    Fresh,

    /// <summary>A mutable entry past its TTL: refetch, but usable (flagged) when the upstream is down.</summary>
    Stale,
}

/// <summary>The answer to a lookup: the entry, when there is one, and how fresh it is.</summary>
/// <param name="Freshness">Missing, fresh or stale.</param>
/// <param name="Entry">The entry; null exactly when <paramref name="Freshness"/> is <see cref="CacheFreshness.Missing"/>.</param>
public readonly record struct CacheLookup(CacheFreshness Freshness, CacheEntry? Entry)
{
    /// <summary>A miss.</summary>
    public static CacheLookup Missing => new(CacheFreshness.Missing, null);
}
