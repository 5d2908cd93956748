namespace Cleanroom.Gateway.Cache;

/// <summary>
/// The entries (and known absences) the metadata answered for recently, so a cache hit costs no SQLite query. Only
/// the content cache changes entries, and it tells this memo under its lock: a put records the new entry, and
/// anything that removes entries (eviction, a corrupt blob, prune) clears the memo. Bounded: when full it starts
/// over, which costs queries, never correctness.
/// </summary>
internal sealed class EntryMemo(int capacity)
{
    private readonly Dictionary<CacheKey, CacheEntry?> _entries = [];

    /// <summary>True with the remembered entry (null: known to be absent) when the key is in the memo.</summary>
    public bool TryGet(CacheKey key, out CacheEntry? entry) => _entries.TryGetValue(key, out entry);

    /// <summary>Remembers what the metadata holds for a key (null: nothing).</summary>
    public void Set(CacheKey key, CacheEntry? entry)
    {
        if (_entries.Count >= capacity && !_entries.ContainsKey(key))
        {
            _entries.Clear();
        }

        _entries[key] = entry;
    }

    /// <summary>Forgets everything (after entries were removed behind the memo's back).</summary>
    public void Clear() => _entries.Clear();
}
