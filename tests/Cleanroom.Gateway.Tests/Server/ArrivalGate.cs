namespace Cleanroom.Gateway.Tests.Server;

/// <summary>
/// Lets a test upstream hold its answers: after <see cref="Hold"/>, each request waits in <see cref="PassAsync"/> until
/// <see cref="Release"/>, and the task Hold returned completes once the given number of requests are waiting. That is
/// how tests know a hundred concurrent misses have all arrived (or made one upstream request) without sleeping.
/// </summary>
internal sealed class ArrivalGate
{
    private TaskCompletionSource _gate = Open();
    private TaskCompletionSource _arrived = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _arrivals;
    private int _arrivalsWanted = int.MaxValue;

    /// <summary>Holds every answer until <see cref="Release"/>; the task completes once <paramref name="arrivals"/> are held.</summary>
    public Task Hold(int arrivals)
    {
        _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _arrivals, 0);
        Volatile.Write(ref _arrivalsWanted, arrivals);
        return _arrived.Task;
    }

    /// <summary>Lets every held and later request through.</summary>
    public void Release() => _gate.TrySetResult();

    /// <summary>Called by the server for each request: counts it, then waits while the gate is held (a minute at most).</summary>
    public async Task PassAsync()
    {
        if (Interlocked.Increment(ref _arrivals) >= Volatile.Read(ref _arrivalsWanted))
        {
            _arrived.TrySetResult();
        }

        await _gate.Task.WaitAsync(TimeSpan.FromMinutes(1));
    }

    private static TaskCompletionSource Open()
    {
        var gate = new TaskCompletionSource();
        gate.SetResult();
        return gate;
    }
}
