namespace Cleanroom.Gateway.Cache;

/// <summary>
/// Coalesces concurrent work on the same key: the first caller starts it, later callers join it, and all get its
/// result. The work runs detached from every caller's cancellation (a client that hangs up must not fail the fetch
/// the other hundred are waiting for); each caller waits with its own token instead. The work is bounded by the
/// flight timeout and stopped when the owner is disposed; work that ignores its token is abandoned shortly after the
/// timeout, so it cannot hold its key forever. A finished flight is forgotten, success or failure, so a
/// failure is never cached: the next call runs the work again (and after a success finds the result in the store).
/// </summary>
/// <typeparam name="TKey">What the work is for.</typeparam>
/// <typeparam name="TResult">What it produces.</typeparam>
public sealed class SingleFlight<TKey, TResult> : IDisposable
    where TKey : notnull
{
    private readonly Dictionary<TKey, Task<TResult>> _flights = [];

    // The work itself, including work abandoned past its timeout (no longer in _flights), for StopAsync to wait on.
    private readonly HashSet<Task> _running = [];
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _lifetime = new();
    private readonly TimeSpan _timeout;

    /// <summary>
    /// How long past its timeout a flight waits for work that does not stop: a tenth of the timeout, kept between 1 s
    /// (work that does stop needs a moment on a loaded machine, and must end the flight with its own cancellation)
    /// and 5 s.
    /// </summary>
    private TimeSpan AbandonGrace => TimeSpan.FromTicks(Math.Clamp(_timeout.Ticks / 10, MinAbandonGrace.Ticks, MaxAbandonGrace.Ticks));

    private static readonly TimeSpan MinAbandonGrace = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan MaxAbandonGrace = TimeSpan.FromSeconds(5);

    /// <param name="timeout">Longest one flight may run before its token is cancelled.</param>
    public SingleFlight(TimeSpan timeout)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        _timeout = timeout;
    }

    /// <summary>Flights running now.</summary>
    public int InFlight
    {
        get
        {
            lock (_gate)
            {
                return _flights.Count;
            }
        }
    }

    /// <summary>
    /// Joins the flight for <paramref name="key"/>, starting it with <paramref name="work"/> when there is none.
    /// </summary>
    /// <param name="key">What the work is for.</param>
    /// <param name="work">The work; its token is the flight's (timeout, disposal), never a caller's.</param>
    /// <param name="cancellationToken">Stops this caller's wait only.</param>
    public Task<TResult> RunAsync(TKey key, Func<CancellationToken, Task<TResult>> work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        ObjectDisposedException.ThrowIf(_lifetime.IsCancellationRequested, this);
        Task<TResult> flight;
        var started = false;
        lock (_gate)
        {
            if (!_flights.TryGetValue(key, out var running))
            {
                // Task.Run: the work starts on the pool, not inline under this lock or on the first caller's stack.
                var detached = Task.Run(() => RunDetachedAsync(work));
                _running.Add(detached);
                _ = detached.ContinueWith(
                    done =>
                    {
                        lock (_gate)
                        {
                            _running.Remove(done);
                        }
                    },
                    CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                running = BoundAsync(key, detached);
                _flights[key] = running;
                started = true;
            }

            flight = running;
        }

        if (started)
        {
            _ = flight.ContinueWith(
                finished => Forget(key, finished), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        return flight.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Cancels every running flight's token and waits, at most <paramref name="wait"/>, for the work to stop (work
    /// that was abandoned past its timeout included), so the owner can release what the work uses. New calls are
    /// refused from here on.
    /// </summary>
    /// <returns>True when all the work stopped in time.</returns>
    public async Task<bool> StopAsync(TimeSpan wait)
    {
        if (!_lifetime.IsCancellationRequested)
        {
            await _lifetime.CancelAsync().ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        Task[] running;
        lock (_gate)
        {
            running = [.. _running];
        }

        // Only the work's end matters here; its failures (cancellation first of all) reach its waiters. Not resuming
        // on the caller's context: ContentCache.Dispose blocks on this.
        var all = Task.WhenAll(running);
        await all.WaitAsync(wait).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _ = all.Exception;
        return all.IsCompleted;
    }

    /// <summary>Cancels every running flight's token (without waiting; see <see cref="StopAsync"/>).</summary>
    public void Dispose()
    {
        _lifetime.Cancel();
        _lifetime.Dispose();
    }

    /// <summary>
    /// The flight as its waiters see it: the work, or a <see cref="TimeoutException"/> once the work has outlived its
    /// timeout by <see cref="AbandonGrace"/> without stopping.
    /// </summary>
    private async Task<TResult> BoundAsync(TKey key, Task<TResult> detached)
    {
        // Observe a late failure of work that was abandoned, so it is not reported as unobserved.
        _ = detached.ContinueWith(
            abandoned => _ = abandoned.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        try
        {
            // Work that ignores its token would hold the key forever and every later caller would join it. So the
            // flight ends (for all its waiters, and the key is forgotten) a grace period after the token fires,
            // whatever the work does. The grace lets work that does stop clean up (a staged temp file) and end the
            // flight with its own cancellation.
            return await detached.WaitAsync(_timeout + AbandonGrace);
        }
        catch (TimeoutException) when (!detached.IsCompleted)
        {
            throw new TimeoutException($"the work for {key} did not stop when its {_timeout} timeout cancelled it; abandoned it");
        }
    }

    private async Task<TResult> RunDetachedAsync(Func<CancellationToken, Task<TResult>> work)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(_lifetime.Token);
        bounded.CancelAfter(_timeout);
        return await work(bounded.Token);
    }

    private void Forget(TKey key, Task<TResult> finished)
    {
        // Observe a failure even when every waiter gave up, so it is not reported as unobserved.
        _ = finished.Exception;
        lock (_gate)
        {
            if (_flights.TryGetValue(key, out var current) && current == finished)
            {
                _flights.Remove(key);
            }
        }
    }
}
