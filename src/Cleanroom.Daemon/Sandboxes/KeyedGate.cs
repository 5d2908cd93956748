namespace Cleanroom.Daemon.Sandboxes;

/// <summary>
/// One async lock per key, held while a keyed create looks for its sandbox and boots one if there is none, so creates
/// with one key run one at a time while creates with other keys go on. A key's lock is dropped once nobody holds or
/// waits for it, so the table is as small as the number of keys in use.
/// </summary>
internal sealed class KeyedGate
{
    private readonly Dictionary<string, Slot> _slots = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    /// <summary>Waits for the key's lock; disposing the result releases it.</summary>
    public async Task<IDisposable> EnterAsync(string key, CancellationToken cancellationToken)
    {
        Slot slot;
        lock (_gate)
        {
            if (!_slots.TryGetValue(key, out slot!))
            {
                slot = new Slot();
                _slots[key] = slot;
            }

            slot.Users++;
        }

        try
        {
            await slot.Semaphore.WaitAsync(cancellationToken);
        }
        catch
        {
            Leave(key, slot, entered: false);
            throw;
        }

        return new Holder(this, key, slot);
    }

    private void Leave(string key, Slot slot, bool entered)
    {
        if (entered)
        {
            slot.Semaphore.Release();
        }

        lock (_gate)
        {
            if (--slot.Users == 0)
            {
                _slots.Remove(key);
                slot.Semaphore.Dispose();
            }
        }
    }

    private sealed class Slot
    {
        public SemaphoreSlim Semaphore { get; } = new(1, 1);

        /// <summary>Holders and waiters; guarded by the table's lock.</summary>
        public int Users { get; set; }
    }

    private sealed class Holder(KeyedGate owner, string key, Slot slot) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                owner.Leave(key, slot, entered: true);
            }
        }
    }
}
