namespace Cleanroom.Vm.Qemu.Confinement;

/// <summary>
/// Hands out the uids VMs run as, one per running VM, from a configured range. Uids are handed out round-robin so
/// a uid is reused as late as possible, and a uid that still owns a process (a QEMU of another daemon, or one a
/// crashed daemon left behind) is skipped, so two running VMs never share one.
/// </summary>
internal sealed class VmUidPool
{
    private readonly Lock _gate = new();
    private readonly HashSet<int> _rented = [];
    private readonly Func<int, bool> _inUseOnHost;
    private int _next;

    /// <param name="inUseOnHost">Whether some process on the host already runs as a uid; <see cref="ProcessUids.AnyProcessRunsAs"/> by default.</param>
    public VmUidPool(int first, int count, Func<int, bool>? inUseOnHost = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(first, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        if ((long)first + count - 1 > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(count), $"The VM uid range {first}+{count} goes past {int.MaxValue}.");
        }

        First = first;
        Count = count;
        _inUseOnHost = inUseOnHost ?? ProcessUids.AnyProcessRunsAs;
    }

    public int First { get; }

    public int Count { get; }

    /// <summary>The uid for a new VM; dispose the lease when the VM's process is gone and its files are deleted.</summary>
    public VmUidLease Rent()
    {
        lock (_gate)
        {
            for (var tried = 0; tried < Count; tried++)
            {
                var uid = First + _next;
                _next = (_next + 1) % Count;
                if (!_rented.Contains(uid) && !_inUseOnHost(uid))
                {
                    _rented.Add(uid);
                    return new VmUidLease(this, uid);
                }
            }
        }

        throw new VmException($"No free VM uid: all {Count} uids from {First} are in use. Raise VmUidCount or stop some sandboxes.");
    }

    /// <summary>
    /// Records that a VM taken over after a daemon restart runs as <paramref name="uid"/>, so the uid is returned with
    /// that VM. Null when the uid is outside the range (a VM of another configuration): nothing to return then.
    /// </summary>
    public VmUidLease? Adopt(int uid)
    {
        if (uid < First || uid >= First + Count)
        {
            return null;
        }

        lock (_gate)
        {
            return _rented.Add(uid) ? new VmUidLease(this, uid) : throw new VmException($"uid {uid} is already held by another VM of this daemon.");
        }
    }

    internal void Return(int uid)
    {
        lock (_gate)
        {
            _rented.Remove(uid);
        }
    }
}

/// <summary>One VM's uid (its gid has the same number). Disposing returns it to the pool, once.</summary>
internal sealed class VmUidLease(VmUidPool pool, int uid) : IDisposable
{
    private int _returned;

    public int Uid { get; } = uid;

    public int Gid => Uid;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _returned, 1) == 0)
        {
            pool.Return(Uid);
        }
    }
}
