namespace Cleanroom.Network.Dns;

/// <summary>
/// Counts things in progress per sandbox and in all, refusing a new one when either count is at its bound. Used for
/// queries in flight and for open TCP connections. Never waits: over the bound, the caller drops.
/// </summary>
internal sealed class ConcurrencyLimiter(int perKey, int total)
{
    private readonly Dictionary<string, int> _perKey = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private int _total;

    /// <summary>Takes one slot for <paramref name="key"/>; false (and nothing taken) when a bound is reached.</summary>
    public bool TryEnter(string key)
    {
        lock (_lock)
        {
            _perKey.TryGetValue(key, out var count);
            if (count >= perKey || _total >= total)
            {
                return false;
            }

            _perKey[key] = count + 1;
            _total++;
            return true;
        }
    }

    /// <summary>Gives back a slot taken by <see cref="TryEnter"/>.</summary>
    public void Exit(string key)
    {
        lock (_lock)
        {
            if (!_perKey.TryGetValue(key, out var count))
            {
                return;
            }

            if (count <= 1)
            {
                _perKey.Remove(key);
            }
            else
            {
                _perKey[key] = count - 1;
            }

            _total--;
        }
    }
}
