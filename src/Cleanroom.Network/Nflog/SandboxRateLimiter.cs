namespace Cleanroom.Network.Nflog;

/// <summary>
/// A token bucket per sandbox: at most <c>burst</c> events at once and <c>perSecond</c> on average, whatever the
/// kernel-side limit lets through. Used from the receive thread only, so it takes no locks.
/// </summary>
internal sealed class SandboxRateLimiter
{
    /// <summary>Past this many tracked sandboxes, idle (full) buckets are forgotten: they hold no state worth keeping.</summary>
    private const int SweepThreshold = 1024;

    /// <summary>If that many are all busy at once, new ones are refused rather than tracked without bound.</summary>
    private const int MaxTracked = 16384;

    private readonly double _perSecond;
    private readonly double _burst;
    private readonly TimeProvider _time;
    private readonly Dictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);

    public SandboxRateLimiter(double perSecond, int burst, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(perSecond);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(burst);
        _perSecond = perSecond;
        _burst = burst;
        _time = time;
    }

    /// <summary>Sandboxes currently tracked (for tests of the bound).</summary>
    public int Tracked => _buckets.Count;

    /// <summary>True when <paramref name="sandboxId"/> may report one more event now.</summary>
    public bool TryTake(string sandboxId)
    {
        var now = _time.GetTimestamp();
        if (!_buckets.TryGetValue(sandboxId, out var bucket))
        {
            if (_buckets.Count >= SweepThreshold)
            {
                Sweep(now);
            }

            if (_buckets.Count >= MaxTracked)
            {
                return false;
            }

            bucket = new Bucket { Tokens = _burst, Stamp = now };
            _buckets[sandboxId] = bucket;
        }

        Refill(bucket, now);
        if (bucket.Tokens < 1)
        {
            return false;
        }

        bucket.Tokens -= 1;
        return true;
    }

    private void Refill(Bucket bucket, long now)
    {
        var seconds = _time.GetElapsedTime(bucket.Stamp, now).TotalSeconds;
        bucket.Tokens = Math.Min(_burst, bucket.Tokens + seconds * _perSecond);
        bucket.Stamp = now;
    }

    private void Sweep(long now)
    {
        foreach (var (id, bucket) in _buckets)
        {
            Refill(bucket, now);
            if (bucket.Tokens >= _burst)
            {
                _buckets.Remove(id);
            }
        }
    }

    private sealed class Bucket
    {
        public double Tokens;
        public long Stamp;
    }
}
