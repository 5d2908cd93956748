namespace Cleanroom.Network.Firewall;

/// <summary>
/// When each destination a sandbox learned from DNS stops being allowed. The kernel set holds no timeouts of its
/// own: this book decides, so an element is only ever deleted by the daemon that knows it is there. Bounded: past
/// <see cref="Capacity"/>, the destinations closest to expiry are evicted first.
/// </summary>
internal sealed class LearnedAddressBook(int capacity)
{
    private readonly Dictionary<LearnedDestination, DateTimeOffset> _expiry = [];

    public int Capacity { get; } = capacity;

    public int Count => _expiry.Count;

    /// <summary>Records the destinations until <paramref name="until"/>; returns the ones that are new to the set and the evicted ones.</summary>
    public (List<LearnedDestination> Added, List<LearnedDestination> Evicted) Learn(IEnumerable<LearnedDestination> destinations, DateTimeOffset until)
    {
        var added = new List<LearnedDestination>();
        foreach (var destination in destinations)
        {
            if (_expiry.TryGetValue(destination, out var current))
            {
                _expiry[destination] = current > until ? current : until;
            }
            else
            {
                _expiry[destination] = until;
                added.Add(destination);
            }
        }

        var evicted = new List<LearnedDestination>();
        if (_expiry.Count > Capacity)
        {
            var addedSet = added.ToHashSet();
            foreach (var (destination, _) in _expiry.OrderBy(e => e.Value).Take(_expiry.Count - Capacity).ToList())
            {
                _expiry.Remove(destination);
                if (!addedSet.Remove(destination))
                {
                    evicted.Add(destination);
                }
                else
                {
                    added.Remove(destination);
                }
            }
        }

        return (added, evicted);
    }

    /// <summary>Forgets destinations whose addition to the kernel set failed.</summary>
    public void Forget(IEnumerable<LearnedDestination> destinations)
    {
        foreach (var destination in destinations)
        {
            _expiry.Remove(destination);
        }
    }

    /// <summary>True when the destination is in the book and not expired at <paramref name="now"/>.</summary>
    public bool Holds(LearnedDestination destination, DateTimeOffset now) =>
        _expiry.TryGetValue(destination, out var until) && until > now;

    /// <summary>Forgets and returns the destinations that expired by <paramref name="now"/>.</summary>
    public List<LearnedDestination> Expire(DateTimeOffset now)
    {
        var expired = _expiry.Where(e => e.Value <= now).Select(e => e.Key).ToList();
        foreach (var destination in expired)
        {
            _expiry.Remove(destination);
        }

        return expired;
    }
}
