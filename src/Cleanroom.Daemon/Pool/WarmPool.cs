using Cleanroom.Daemon.Admission;
using Microsoft.Extensions.Logging;

namespace Cleanroom.Daemon.Pool;

/// <summary>
/// Keeps up to N VMs restored from a template, configured and warmed up, for the kind of sandbox created last
/// (<see cref="Want"/>), so a create of that kind only has to apply its policy (see docs/templates.md, "Warm pool").
/// Under TCG most of a warm start is a new QEMU process translating guest code afresh; a pooled VM has paid that
/// before the request comes. VMs are made in the background, a few at once (<c>parallelFills</c>). The pool's VMs count against admission like
/// sandboxes, and a create that would not fit otherwise empties the pool first (<see cref="ReleaseAll"/>).
/// </summary>
/// <remarks>
/// State is guarded by the manager's admission lock (<paramref name="gate"/>), so that admission sees the sandboxes
/// and the pool in one consistent state. Every VM has one owner: the fill that makes it, then the pool while idle, then
/// the sandbox that takes it or the discard that stops it.
/// </remarks>
internal sealed class WarmPool(
    int size,
    int parallelFills,
    Lock gate,
    Func<PoolRecipe, CancellationToken, Task<PooledVm?>> fill,
    Func<SandboxDemand, bool> fits,
    Func<PooledVm, Task> discard,
    ILogger logger) : IAsyncDisposable
{
    public const int MaxSize = 16;

    /// <summary>How long the pool waits for a template that is still being built, per attempt, and how many attempts.</summary>
    private static readonly TimeSpan NotYetDelay = TimeSpan.FromSeconds(1);
    private const int MaxNotYet = 120;

    private readonly List<PooledVm> _idle = [];
    private readonly Dictionary<CancellationTokenSource, PoolRecipe> _making = [];
    private readonly List<Task> _tasks = [];
    private readonly CancellationTokenSource _stop = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private PoolRecipe? _wanted;
    private bool _halted;
    private bool _retryPending;
    private int _notYet;
    private bool _stopped;

    /// <summary>What the pool holds against the host's totals: its idle VMs and those being made. Call holding the gate.</summary>
    public IEnumerable<SandboxDemand> DemandsHeld() =>
        _idle.Select(v => v.Demand).Concat(_making.Values.Select(DemandOf)).ToList();

    /// <summary>
    /// An idle VM made for <paramref name="recipe"/>, now the caller's. When there is none but one is being made for
    /// it, waits for that up to <paramref name="wait"/> (it is further along than a restore started now, and more
    /// restores at once slow each other down). Null when there is none to have.
    /// </summary>
    public async Task<PooledVm?> TakeAsync(PoolRecipe recipe, TimeSpan wait, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + wait;
        while (true)
        {
            Task changed;
            lock (gate)
            {
                var vm = _idle.Find(v => v.Recipe == recipe);
                if (vm is not null)
                {
                    _idle.Remove(vm);
                    logger.LogInformation("warm pool: VM {Id} taken by sandbox (same id)", vm.Id);
                    return vm;
                }

                if (_stopped || !_making.ContainsValue(recipe))
                {
                    return null;
                }

                changed = _changed.Task;
            }

            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                return null;
            }

            try
            {
                await changed.WaitAsync(left, ct);
            }
            catch (TimeoutException)
            {
                return null;
            }
        }
    }

    /// <summary>
    /// Makes <paramref name="recipe"/> the kind the pool keeps, and tops it up in the background. VMs of another kind
    /// are stopped: the pool follows what is being created now.
    /// </summary>
    public void Want(PoolRecipe recipe)
    {
        lock (gate)
        {
            if (_stopped)
            {
                return;
            }

            foreach (var other in _idle.Where(v => v.Recipe != recipe).ToList())
            {
                _idle.Remove(other);
                DiscardLocked(other, "the pool now keeps another kind of sandbox");
            }

            if (_wanted != recipe)
            {
                foreach (var (cancel, making) in _making)
                {
                    if (making != recipe)
                    {
                        cancel.Cancel();
                    }
                }

                _wanted = recipe;
                _notYet = 0;
            }

            _halted = false;
            TopUpLocked();
        }
    }

    /// <summary>
    /// Gives the pool's room back at once (a create needs it): idle VMs are stopped in the background and the VMs being
    /// made are cancelled. Call holding the gate. Returns whether the pool held anything.
    /// </summary>
    public bool ReleaseAllHeld()
    {
        var held = _idle.Count > 0 || _making.Count > 0;
        foreach (var vm in _idle)
        {
            DiscardLocked(vm, "a sandbox needed its room");
        }

        _idle.Clear();
        foreach (var cancel in _making.Keys)
        {
            cancel.Cancel();
        }

        _making.Clear();
        _wanted = null;
        return held;
    }

    /// <summary>Stops filling and stops every pooled VM; waits for all of it. Idempotent.</summary>
    public async ValueTask DisposeAsync()
    {
        lock (gate)
        {
            if (!_stopped)
            {
                _stopped = true;
                _stop.Cancel();
                foreach (var vm in _idle)
                {
                    DiscardLocked(vm, "the daemon is stopping");
                }

                _idle.Clear();
            }
        }

        // Fills finish (and hand what they made to a discard) before the discards are awaited.
        while (true)
        {
            Task[] pending;
            lock (gate)
            {
                _tasks.RemoveAll(t => t.IsCompleted);
                pending = [.. _tasks];
            }

            if (pending.Length == 0)
            {
                return;
            }

            await Task.WhenAll(pending).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    private static SandboxDemand DemandOf(PoolRecipe recipe) => new(recipe.Vcpus, (long)recipe.MemoryMiB << 20, 0);

    /// <summary>Starts fills for what the wanted kind lacks, up to <paramref name="parallelFills"/> at once and while the host has room.</summary>
    private void TopUpLocked()
    {
        if (_stopped || _halted || _retryPending || _wanted is not { } recipe)
        {
            return;
        }

        var lacking = size - _idle.Count(v => v.Recipe == recipe) - _making.Values.Count(r => r == recipe);
        for (; lacking > 0 && _making.Count < parallelFills; lacking--)
        {
            if (!fits(DemandOf(recipe)))
            {
                logger.LogInformation("warm pool: not filling, the host has no room for another {Vcpus}-vCPU {MemoryMiB} MiB VM", recipe.Vcpus, recipe.MemoryMiB);
                return;
            }

            var cancel = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            _making[cancel] = recipe;
            Track(Task.Run(() => FillOneAsync(recipe, cancel), CancellationToken.None));
        }
    }

    private async Task FillOneAsync(PoolRecipe recipe, CancellationTokenSource cancel)
    {
        PooledVm? made = null;
        Exception? failure = null;
        try
        {
            made = await fill(recipe, cancel.Token);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            failure = ex;
        }

        lock (gate)
        {
            _making.Remove(cancel);
            var cancelled = cancel.IsCancellationRequested;
            cancel.Dispose();
            var kept = made is not null && !_stopped && !cancelled && recipe == _wanted;
            if (kept)
            {
                _idle.Add(made!);
                _notYet = 0;
                _ = WatchAsync(made!); // not tracked: a VM a sandbox took may outlive the daemon
            }
            else if (made is not null)
            {
                DiscardLocked(made, "it was made for a kind of sandbox the pool no longer keeps");
            }

            // Whoever waits for a VM looks again: at this one, or at nothing coming.
            _changed.TrySetResult();
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (failure is not null && !cancelled)
            {
                logger.LogWarning("warm pool: making a VM failed, not retrying until the next create: {Reason}", failure.Message);
                _halted = true;
            }
            else if (made is null && !cancelled && !_retryPending)
            {
                // No template yet (it is being built, or was just dropped and backs off): look again shortly.
                if (++_notYet < MaxNotYet)
                {
                    _retryPending = true;
                    Track(RetryLaterAsync());
                }
            }
            else
            {
                TopUpLocked();
            }
        }
    }

    private async Task RetryLaterAsync()
    {
        try
        {
            await Task.Delay(NotYetDelay, _stop.Token);
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }

        lock (gate)
        {
            _retryPending = false;
            TopUpLocked();
        }
    }

    /// <summary>A pooled VM that dies while idle leaves the pool (and is cleaned up) instead of being handed out.</summary>
    private async Task WatchAsync(PooledVm vm)
    {
        var code = await vm.Vm.Exited;
        lock (gate)
        {
            if (_idle.Remove(vm))
            {
                logger.LogWarning("warm pool: VM {Id} exited while idle (code {Code})", vm.Id, code);
                DiscardLocked(vm, "it exited");
                TopUpLocked();
            }
        }
    }

    private void DiscardLocked(PooledVm vm, string why)
    {
        logger.LogInformation("warm pool: stopping VM {Id}: {Why}", vm.Id, why);
        Track(Task.Run(() => discard(vm), CancellationToken.None));
    }

    private void Track(Task task)
    {
        _tasks.RemoveAll(t => t.IsCompleted);
        _tasks.Add(task);
    }
}
