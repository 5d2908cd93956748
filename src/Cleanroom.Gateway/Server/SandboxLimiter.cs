using System.Collections.Concurrent;

namespace Cleanroom.Gateway.Server;

/// <summary>
/// Per-sandbox request limits: at most N requests in flight and a token bucket for the sustained rate. State exists
/// only for sandboxes that are busy: an entry with nothing in flight and a full bucket says nothing a fresh entry
/// would not, so a sweep drops such entries once there are more than a few, and sandboxes that come and go leave
/// nothing behind.
/// </summary>
internal sealed class SandboxLimiter
{
    /// <summary>Entries kept before a sweep looks for idle ones.</summary>
    internal const int SweepThreshold = 256;

    private readonly ConcurrentDictionary<string, State> _states = new(StringComparer.Ordinal);
    private readonly int _maxConcurrent;
    private readonly double _perSecond;
    private readonly double _burst;
    private readonly TimeProvider _time;
    private int _sweeping;

    public SandboxLimiter(int maxConcurrent, int perSecond, int burst, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxConcurrent);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(perSecond);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(burst);
        _maxConcurrent = maxConcurrent;
        _perSecond = perSecond;
        _burst = burst;
        _time = time;
    }

    /// <summary>Entries held now (for tests of the bound).</summary>
    public int TrackedSandboxes => _states.Count;

    /// <summary>A lease to release when the request ends, or null with the limit that refused it.</summary>
    public Lease? TryEnter(string sandboxId, out string refusal)
    {
        if (_states.Count > SweepThreshold)
        {
            Sweep();
        }

        while (true)
        {
            var state = _states.GetOrAdd(sandboxId, _ => new State(_burst, _time.GetTimestamp()));
            lock (state)
            {
                if (state.Removed)
                {
                    // A sweep dropped it between the lookup and the lock; take the fresh one.
                    continue;
                }

                Refill(state);
                if (state.InFlight >= _maxConcurrent)
                {
                    refusal = $"more than {_maxConcurrent} requests in flight";
                    return null;
                }

                if (state.Tokens < 1)
                {
                    refusal = $"more than {_perSecond} requests a second (burst {_burst})";
                    return null;
                }

                state.Tokens -= 1;
                state.InFlight++;
                refusal = "";
                return new Lease(state);
            }
        }
    }

    /// <summary>Drops entries with nothing in flight and a full bucket.</summary>
    public void Sweep()
    {
        if (Interlocked.Exchange(ref _sweeping, 1) == 1)
        {
            return;
        }

        try
        {
            foreach (var (id, state) in _states)
            {
                lock (state)
                {
                    Refill(state);
                    if (state.InFlight == 0 && state.Tokens >= _burst)
                    {
                        state.Removed = true;
                        _states.TryRemove(new KeyValuePair<string, State>(id, state));
                    }
                }
            }
        }
        finally
        {
            Volatile.Write(ref _sweeping, 0);
        }
    }

    private void Refill(State state)
    {
        var now = _time.GetTimestamp();
        var elapsed = _time.GetElapsedTime(state.LastRefill, now).TotalSeconds;
        state.LastRefill = now;
        state.Tokens = Math.Min(_burst, state.Tokens + (elapsed * _perSecond));
    }

    /// <summary>One sandbox's counters; guarded by locking the instance.</summary>
    private sealed class State(double tokens, long now)
    {
        public double Tokens = tokens;
        public long LastRefill = now;
        public int InFlight;
        public bool Removed;
    }

    /// <summary>A request's slot; disposing it frees the slot (once).</summary>
    public sealed class Lease : IDisposable
    {
        private State? _state;

        internal Lease(object state)
        {
            _state = (State)state;
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _state, null) is { } state)
            {
                lock (state)
                {
                    state.InFlight--;
                }
            }
        }
    }
}
