using System.Collections.Concurrent;
using Cleanroom.Daemon.Admission;
using Cleanroom.Daemon.Executions;
using Cleanroom.Daemon.State;
using Cleanroom.Guest.Wire.Host;
using Cleanroom.Vm;

namespace Cleanroom.Daemon.Sandboxes;

/// <summary>
/// One sandbox the daemon owns from the moment it is admitted until its VM is gone: its record, its state machine
/// (PROVISIONING → READY → STOPPING → STOPPED, or FAILED from any of them), the cancellation of its boot, its VM and
/// agent once they exist, its running executions, and the clients holding it. Exactly one party tears it down: the
/// first to claim <see cref="TryBeginTermination"/>.
/// </summary>
public sealed class SandboxEntry : IDisposable
{
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private SandboxRecord _record;
    private bool _terminating;
    private int _holds;
    private Timer? _detachTimer;

    public SandboxEntry(SandboxRecord record, SandboxDemand demand)
    {
        _record = record;
        Demand = demand;
    }

    public string Id => _record.Id;

    public SandboxRecord Record
    {
        get
        {
            lock (_gate)
            {
                return _record;
            }
        }

        set
        {
            lock (_gate)
            {
                _record = value;
            }
        }
    }

    /// <summary>What the sandbox counts against the host's totals while it is live (booting included).</summary>
    public SandboxDemand Demand { get; set; }

    /// <summary>Cancelled when the sandbox is terminated while it boots: the boot stops and undoes itself.</summary>
    public CancellationTokenSource Boot { get; } = new();

    public IVm? Vm { get; private set; }

    public AgentClient? Agent { get; private set; }

    public ConcurrentDictionary<string, ExecutionRunner> Executions { get; } = new();

    /// <summary>
    /// The network policy the sandbox was attached with, or null when it has no network: what the gateway variables
    /// of its executions are built from.
    /// </summary>
    public Cleanroom.Policy.NetworkPolicy? Egress { get; set; }

    /// <summary>Keeps the image the sandbox boots from in the store (no rm, prune or eviction) until it is released.</summary>
    public IDisposable? ImageLease { get; set; }

    public bool IsReady => Record.Status == SandboxStatus.Ready && !IsTerminating;

    public bool IsTerminating
    {
        get
        {
            lock (_gate)
            {
                return _terminating;
            }
        }
    }

    /// <summary>Completes once the VM is gone and the final status is recorded.</summary>
    public Task Released => _released.Task;

    /// <summary>
    /// The boot finished: the sandbox becomes READY, unless a terminate claimed it meanwhile (then false, and the
    /// caller undoes the boot itself). <paramref name="persist"/> runs under the entry's lock, so the READY row is
    /// written before any terminate can claim the entry and write its final status.
    /// </summary>
    public bool TryBecomeReady(SandboxRecord ready, IVm vm, AgentClient agent, Action<SandboxRecord> persist)
    {
        lock (_gate)
        {
            if (_terminating)
            {
                return false;
            }

            _record = ready;
            Vm = vm;
            Agent = agent;
            persist(ready);
            return true;
        }
    }

    /// <summary>Claims the teardown; only the first caller gets true, and it learns whether the sandbox was still booting.</summary>
    public bool TryBeginTermination(out bool wasBooting)
    {
        lock (_gate)
        {
            wasBooting = Vm is null;
            if (_terminating)
            {
                return false;
            }

            _terminating = true;
            _detachTimer?.Dispose();
            _detachTimer = null;
            return true;
        }
    }

    public void MarkReleased() => _released.TrySetResult();

    /// <summary>
    /// A client uses the sandbox (a request or an output stream). For a sandbox that lives only as long as its
    /// client, the last hold released starts <paramref name="grace"/>; if nobody holds it by then,
    /// <paramref name="onDetached"/> runs.
    /// </summary>
    public IDisposable Hold(TimeSpan grace, Action onDetached)
    {
        lock (_gate)
        {
            _holds++;
            _detachTimer?.Dispose();
            _detachTimer = null;
        }

        return new Holding(this, grace, onDetached);
    }

    /// <summary>Starts the detach countdown now (a sandbox that nobody has held yet).</summary>
    public void ArmDetachTimer(TimeSpan grace, Action onDetached)
    {
        lock (_gate)
        {
            if (_holds == 0 && !_terminating)
            {
                _detachTimer?.Dispose();
                _detachTimer = new Timer(_ => onDetached(), null, grace, Timeout.InfiniteTimeSpan);
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _detachTimer?.Dispose();
            _detachTimer = null;
        }

        ImageLease?.Dispose();

        // Boot is not disposed: a terminate may still cancel it while the create unwinds (it owns no timer).
    }

    private void Release(TimeSpan grace, Action onDetached)
    {
        lock (_gate)
        {
            _holds--;
        }

        ArmDetachTimer(grace, onDetached);
    }

    private sealed class Holding(SandboxEntry entry, TimeSpan grace, Action onDetached) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                entry.Release(grace, onDetached);
            }
        }
    }
}
