using System.Collections.Concurrent;

namespace Cleanroom.Network.Dns;

/// <summary>
/// The filter's running tasks (listener loops, queries waiting on upstreams, TCP connections), so that stopping can
/// wait for all of them. Work handed in must catch its own exceptions.
/// </summary>
internal sealed class BackgroundWork
{
    private readonly ConcurrentDictionary<Task, byte> _running = new();

    public void Start(Func<Task> work)
    {
        var task = Task.Run(work);
        _running.TryAdd(task, 0);
        _ = task.ContinueWith(done => _running.TryRemove(done, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Completes when everything started so far has ended.</summary>
    public Task WhenAllAsync() => Task.WhenAll(_running.Keys);
}
