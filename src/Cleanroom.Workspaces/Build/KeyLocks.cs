using System.Collections.Concurrent;

namespace Cleanroom.Workspaces.Build;

/// <summary>
/// One builder per cache key: a semaphore for callers in this process and an exclusive lock on
/// <c>locks/&lt;key&gt;.lock</c> (flock, which .NET takes for <see cref="FileShare.None"/>) for other processes, such as a
/// second daemon on the same store. Lock files stay: deleting one while another process waits on it would let two
/// holders exist at once, and an empty file per image is cheap.
/// </summary>
internal sealed class KeyLocks(string directory)
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _gates = new(StringComparer.Ordinal);

    /// <summary>Waits for the key's lock (in this process, then across processes).</summary>
    public async Task<IDisposable> AcquireAsync(string key, CancellationToken ct)
    {
        var gate = _gates.GetOrAdd(key, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        try
        {
            while (true)
            {
                var file = TryLockFile(key);
                if (file is not null)
                {
                    return new Held(gate, file);
                }

                await Task.Delay(PollInterval, ct);
            }
        }
        catch
        {
            gate.Release();
            throw;
        }
    }

    /// <summary>The key's lock if nobody holds it now, else null (pruning skips busy images rather than waiting).</summary>
    public IDisposable? TryAcquire(string key)
    {
        var gate = _gates.GetOrAdd(key, _ => new SemaphoreSlim(1, 1));
        if (!gate.Wait(0))
        {
            return null;
        }

        var file = TryLockFile(key);
        if (file is null)
        {
            gate.Release();
            return null;
        }

        return new Held(gate, file);
    }

    private FileStream? TryLockFile(string key)
    {
        Directory.CreateDirectory(directory);
        try
        {
            return new FileStream(Path.Combine(directory, key + ".lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            // Held by another process (EWOULDBLOCK surfaces as a sharing violation).
            return null;
        }
    }

    private sealed class Held(SemaphoreSlim gate, FileStream file) : IDisposable
    {
        public void Dispose()
        {
            file.Dispose();
            gate.Release();
        }
    }
}
