using System.Collections.Concurrent;
using System.Threading.Channels;
using Cleanroom.Daemon.Admission;
using Cleanroom.Daemon.Pool;
using Cleanroom.Daemon.Templates;
using Cleanroom.Daemon.Tests.Fakes;
using Cleanroom.Guest.Wire;
using Cleanroom.Guest.Wire.Host;
using Cleanroom.Vm;
using Cleanroom.Vm.Assets;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cleanroom.Daemon.Tests;

/// <summary>
/// The warm pool's bookkeeping with fake VMs (a real agent over a socket pair): how many it makes and how many at once,
/// what a create gets, what it waits for, and that every VM the pool gave up is handed to the discard exactly once.
/// </summary>
public sealed class WarmPoolTests : IDisposable
{
    private static readonly PoolRecipe Small = new("", 1, 256);
    private static readonly PoolRecipe Large = new("", 2, 512);
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private readonly string _dir = Directory.CreateTempSubdirectory("cr-pool-test-").FullName;
    private readonly Lock _gate = new();
    private readonly ConcurrentQueue<PooledVm> _discarded = new();
    private readonly ConcurrentQueue<FakeVm> _vms = new();
    private readonly Channel<PoolRecipe> _fillStarted = Channel.CreateUnbounded<PoolRecipe>();
    private readonly Channel<PooledVm> _madeEvents = Channel.CreateUnbounded<PooledVm>();
    private readonly Channel<PooledVm> _discardedEvents = Channel.CreateUnbounded<PooledVm>();
    private int _making;
    private int _mostAtOnce;
    private int _made;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task It_makes_the_wanted_kind_up_to_its_size_a_few_at_once_and_a_create_takes_one()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var pool = NewPool(size: 3, parallel: 2, fill: GatedFill(release.Task));

        pool.Want(Small);
        await NextAsync(_fillStarted, 2);
        Assert.Equal(2, _mostAtOnce);
        release.SetResult();
        await NextAsync(_madeEvents, 3);

        var taken = await pool.TakeAsync(Small, Wait, CancellationToken.None);
        Assert.NotNull(taken);
        Assert.Equal(Small, taken.Recipe);
        Assert.Null(await pool.TakeAsync(Large, Wait, CancellationToken.None));
        Assert.Equal(2, _mostAtOnce);
        await DisposeTakenAsync(taken);
    }

    [Fact]
    public async Task A_create_waits_for_the_VM_being_made_for_it_and_not_for_nothing()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var pool = NewPool(size: 1, parallel: 1, fill: GatedFill(release.Task));

        Assert.Null(await pool.TakeAsync(Small, Wait, CancellationToken.None)); // nothing wanted, nothing coming
        pool.Want(Small);
        await NextAsync(_fillStarted, 1);
        var taking = pool.TakeAsync(Small, Wait, CancellationToken.None);
        Assert.False(taking.IsCompleted);
        release.SetResult();
        var taken = await taking;
        Assert.NotNull(taken);
        await DisposeTakenAsync(taken);
    }

    [Fact]
    public async Task Wanting_another_kind_stops_the_old_ones_and_the_rest_go_at_dispose()
    {
        var pool = NewPool(size: 2, parallel: 2, fill: async (recipe, _) => await MakeAsync(recipe));
        pool.Want(Small);
        await NextAsync(_madeEvents, 2);

        pool.Want(Large);
        Assert.All(await NextAsync(_discardedEvents, 2), vm => Assert.Equal(Small, vm.Recipe));
        Assert.All(await NextAsync(_madeEvents, 2), vm => Assert.Equal(Large, vm.Recipe));
        Assert.Null(await pool.TakeAsync(Small, TimeSpan.Zero, CancellationToken.None));

        await pool.DisposeAsync();
        Assert.Equal(4, _discarded.Count);
        Assert.Equal(_discarded.Count, _discarded.Distinct().Count());
        pool.Want(Small); // after disposal: nothing happens
        Assert.Equal(4, Volatile.Read(ref _made));
    }

    [Fact]
    public async Task A_VM_that_dies_while_idle_is_never_handed_out()
    {
        await using var pool = NewPool(size: 1, parallel: 1, fill: async (recipe, _) => await MakeAsync(recipe));
        pool.Want(Small);
        var first = (await NextAsync(_madeEvents, 1))[0];
        _vms.Single().Crash(139);

        Assert.Same(first, (await NextAsync(_discardedEvents, 1))[0]);
        await NextAsync(_madeEvents, 1); // and it is replaced
        var taken = await pool.TakeAsync(Small, Wait, CancellationToken.None);
        Assert.NotNull(taken);
        Assert.False(taken.Vm.Exited.IsCompleted);
        await DisposeTakenAsync(taken);
    }

    [Fact]
    public async Task It_fills_only_while_the_host_has_room_and_gives_the_room_back()
    {
        var room = 1;
        await using var pool = NewPool(size: 3, parallel: 1, fill: async (recipe, _) => await MakeAsync(recipe), fits: _ => Interlocked.Decrement(ref room) >= 0);
        pool.Want(Small);
        await NextAsync(_madeEvents, 1);
        lock (_gate)
        {
            Assert.Single(pool.DemandsHeld());
        }

        bool held;
        lock (_gate)
        {
            held = pool.ReleaseAllHeld();
            Assert.Empty(pool.DemandsHeld());
        }

        Assert.True(held);
        await NextAsync(_discardedEvents, 1);
        Assert.Equal(1, Volatile.Read(ref _made));
    }

    private WarmPool NewPool(int size, int parallel, Func<PoolRecipe, CancellationToken, Task<PooledVm?>> fill, Func<SandboxDemand, bool>? fits = null) =>
        new(
            size,
            parallel,
            _gate,
            async (recipe, ct) =>
            {
                var now = Interlocked.Increment(ref _making);
                InterlockedMax(ref _mostAtOnce, now);
                _fillStarted.Writer.TryWrite(recipe);
                try
                {
                    var made = await fill(recipe, ct);
                    Interlocked.Increment(ref _made);
                    _madeEvents.Writer.TryWrite(made!);
                    return made;
                }
                finally
                {
                    Interlocked.Decrement(ref _making);
                }
            },
            fits ?? (_ => true),
            async vm =>
            {
                _discarded.Enqueue(vm);
                _discardedEvents.Writer.TryWrite(vm);
                await vm.Agent.DisposeAsync();
                await vm.Vm.DisposeAsync();
            },
            NullLogger.Instance);

    /// <summary>A fill that makes its VM only once <paramref name="release"/> completes (or gives up when cancelled).</summary>
    private Func<PoolRecipe, CancellationToken, Task<PooledVm?>> GatedFill(Task release) => async (recipe, ct) =>
    {
        await release.WaitAsync(ct);
        return await MakeAsync(recipe);
    };

    private async Task<PooledVm> MakeAsync(PoolRecipe recipe)
    {
        var id = Ids.New();
        var work = Directory.CreateDirectory(Path.Combine(_dir, id)).FullName;
        var assets = new BootAssets("/nonexistent/vmlinux", "/nonexistent/initrd", "/nonexistent/base.ext4");
        var vm = new FakeVm(new VmSpec(id, work, assets, recipe.Vcpus, recipe.MemoryMiB), GuestMode.Agent, new ScriptedGuest(), () => null);
        _vms.Enqueue(vm);
        var agent = await AgentClient.ConnectAsync(await vm.ConnectAgentAsync(CancellationToken.None), WireLimits.Default, Wait, CancellationToken.None);
        var key = new TemplateKey("fake", "tcg", "", "", "", recipe.Vcpus, recipe.MemoryMiB, Network: false, Workspace: false);
        return new PooledVm(id, recipe, key, vm, agent, network: null, imageLease: null, imageDigest: null);
    }

    private static async Task DisposeTakenAsync(PooledVm vm)
    {
        await vm.Agent.DisposeAsync();
        await vm.Vm.DisposeAsync();
    }

    /// <summary>The next <paramref name="count"/> events of a kind, each within the test bound.</summary>
    private static async Task<List<T>> NextAsync<T>(Channel<T> events, int count)
    {
        var got = new List<T>();
        for (var i = 0; i < count; i++)
        {
            got.Add(await events.Reader.ReadAsync().AsTask().WaitAsync(Waits.Bound));
        }

        return got;
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }
}
