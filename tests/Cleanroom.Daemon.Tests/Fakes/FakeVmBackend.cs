using System.Collections.Concurrent;
using System.Threading.Channels;
using Cleanroom.Vm;
using Cleanroom.Vm.Doctor;

namespace Cleanroom.Daemon.Tests.Fakes;

/// <summary>
/// A backend that "boots" <see cref="FakeVm"/>s in microseconds. It records every VM it started, so a test can prove
/// none was left running, and can hold boots at two points: in <see cref="StartAsync"/> (the VMM is starting) and
/// before the guest answers the hello (the kernel is booting). Each held boot is announced on a queue the test reads.
/// </summary>
internal sealed class FakeVmBackend : IVmBackend
{
    private readonly ConcurrentQueue<FakeVm> _vms = new();
    private readonly Channel<BootHold> _heldStarts = Channel.CreateUnbounded<BootHold>();
    private readonly Channel<BootHold> _heldHellos = Channel.CreateUnbounded<BootHold>();
    private readonly Channel<FakeVm> _started = Channel.CreateUnbounded<FakeVm>();
    private readonly ConcurrentQueue<LeftoverReap> _reaps = new();
    private int _startCalls;

    public string Name => "fake";

    /// <summary>The programs every fake guest runs (and its "command started" events).</summary>
    public ScriptedGuest Programs { get; } = new();

    /// <summary>What answers on the agent channel of VMs started from now on.</summary>
    public GuestMode Mode { get; set; } = GuestMode.Agent;

    /// <summary>The guests of the next VMs, one each, before <see cref="Mode"/> applies again: (mode, what its vCPUs do).</summary>
    public ConcurrentQueue<(GuestMode Mode, string? Cpus)> NextGuests { get; } = new();

    /// <summary>Boots started from now on wait in <see cref="StartAsync"/> until released.</summary>
    public bool HoldStarts { get; set; }

    /// <summary>Guests connected from now on wait before answering the hello until released.</summary>
    public bool HoldHellos { get; set; }

    /// <summary>How many times the daemon called <see cref="StartAsync"/> (held and cancelled boots included).</summary>
    public int StartCalls => Volatile.Read(ref _startCalls);

    /// <summary>Every call to <see cref="ReapLeftoversAsync"/>, in order.</summary>
    public IReadOnlyList<LeftoverReap> Reaps => _reaps.ToArray();

    /// <summary>Every VM started so far.</summary>
    public IReadOnlyList<FakeVm> Vms => _vms.ToArray();

    /// <summary>VMs not yet released by the daemon: still running, or exited but never disposed.</summary>
    public IReadOnlyList<FakeVm> Leaked => _vms.Where(v => !v.IsDisposed).ToArray();

    public Task<BootHold> NextHeldStartAsync() => _heldStarts.Reader.ReadAsync().AsTask().WaitAsync(Waits.Bound);

    public Task<BootHold> NextHeldHelloAsync() => _heldHellos.Reader.ReadAsync().AsTask().WaitAsync(Waits.Bound);

    public Task<FakeVm> NextVmAsync() => _started.Reader.ReadAsync().AsTask().WaitAsync(Waits.Bound);

    public async Task<IVm> StartAsync(VmSpec spec, CancellationToken ct)
    {
        spec.Validate();
        Interlocked.Increment(ref _startCalls);
        if (HoldStarts)
        {
            var hold = new BootHold(spec);
            _heldStarts.Writer.TryWrite(hold);
            await hold.WaitAsync(ct);
        }

        ct.ThrowIfCancellationRequested();
        var (mode, cpus) = NextGuests.TryDequeue(out var next) ? next : (Mode, null);
        var vm = new FakeVm(spec, mode, Programs, () => HoldHellos ? HoldHello(spec) : null) { CpuDescription = cpus };
        _vms.Enqueue(vm);
        _started.Writer.TryWrite(vm);
        return vm;
    }

    /// <summary>Records the call and the work directories that existed then (a real backend finds its leftovers in them).</summary>
    public Task ReapLeftoversAsync(string workRoot, IReadOnlySet<string> adopted, CancellationToken ct)
    {
        var present = Directory.Exists(workRoot) ? Directory.EnumerateDirectories(workRoot).Select(Path.GetFileName).OfType<string>().ToArray() : [];
        _reaps.Enqueue(new LeftoverReap(workRoot, present));
        return Task.CompletedTask;
    }

    public Task<AccelDecision> ResolveAccelAsync(CancellationToken ct) =>
        Task.FromResult(new AccelDecision(AccelMode.Tcg, "fake backend: no accelerator"));

    public Task<IReadOnlyList<DoctorCheck>> RunDoctorChecksAsync(CancellationToken ct) =>
        Task.FromResult<IReadOnlyList<DoctorCheck>>([]);

    private BootHold HoldHello(VmSpec spec)
    {
        var hold = new BootHold(spec);
        _heldHellos.Writer.TryWrite(hold);
        return hold;
    }
}
