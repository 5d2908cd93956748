using Cleanroom.Daemon.Admission;
using Cleanroom.Daemon.Executions;
using Cleanroom.Daemon.Sandboxes;
using Cleanroom.Daemon.State;
using Cleanroom.Daemon.Tests.Fakes;
using Cleanroom.Images;
using Cleanroom.Vm.Assets;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cleanroom.Daemon.Tests;

/// <summary>
/// The real <see cref="SandboxManager"/> with its real collaborators (SQLite state, image store, disk reserve,
/// execution logs) in a temporary state directory, booting <see cref="FakeVm"/>s. Disposal shuts the manager down
/// the way the daemon does and deletes the directory.
/// </summary>
internal sealed class DaemonHarness : IAsyncDisposable
{
    private readonly DirectoryInfo _root;
    private readonly ImageManager _images;

    public DaemonHarness(Func<DaemonOptions, DaemonOptions>? tune = null, Events.SandboxEventStore? events = null)
    {
        _root = Directory.CreateTempSubdirectory("cr-daemon-tests-");
        var defaults = new DaemonOptions
        {
            SocketPath = Path.Combine(_root.FullName, "cleanroom.sock"),
            StateDir = Path.Combine(_root.FullName, "state"),
            LaunchTimeout = TimeSpan.FromSeconds(10),
            WarmUpColdBoots = false,
            DefaultVcpus = 1,
            DefaultMemoryMiB = 256,
            MinFreeDiskBytes = 0,
            DetachedGrace = TimeSpan.FromMinutes(10),
            Limits = new SandboxLimits
            {
                MaxVcpus = 8,
                MaxMemoryBytes = 8L << 30,
                MaxDiskBytes = 64L << 30,
                MaxTotalVcpus = 1024,
                MaxTotalMemoryBytes = 1L << 40,
                MaxTotalDiskBytes = 1L << 40,
            },
        };
        Options = tune?.Invoke(defaults) ?? defaults;
        Directory.CreateDirectory(Options.StateDir);

        // The fake backend never reads the boot assets; they only have to be paths.
        var assetsDir = Directory.CreateDirectory(Path.Combine(_root.FullName, "assets")).FullName;
        var assets = BootAssets.FromDirectory(assetsDir);
        foreach (var file in new[] { assets.KernelPath, assets.InitrdPath, assets.BaseImagePath })
        {
            File.WriteAllBytes(file, []);
        }

        Store = new StateStore(Path.Combine(Options.StateDir, "cleanroom.db"));
        _images = new ImageManager(new ImageManagerOptions { Root = Options.EffectiveImagesDir });
        var disk = new DiskReserve(Options.StateDir, Options.MinFreeDiskBytes);
        Logs = new ExecutionLogs(Options.StateDir, NullLogger<ExecutionLogs>.Instance);
        Manager = new SandboxManager(Options, Store, Backend, () => assets, _images, disk, Logs, NullLogger<SandboxManager>.Instance, events);
    }

    public DaemonOptions Options { get; }

    public FakeVmBackend Backend { get; } = new();

    public StateStore Store { get; }

    public SandboxManager Manager { get; }

    public ExecutionLogs Logs { get; }

    public string WorkDir(string sandboxId) => Path.Combine(Options.StateDir, "sandboxes", sandboxId);

    public string LogsDir(string sandboxId) => Path.Combine(Options.StateDir, "executions", sandboxId);

    /// <summary>Sandbox work directories that exist now.</summary>
    public IReadOnlyList<string> WorkDirs() => Directory.EnumerateDirectories(Path.Combine(Options.StateDir, "sandboxes")).ToArray();

    public Task<Cleanroom.Daemon.State.SandboxRecord> CreateAsync(SandboxRequest? request = null, CancellationToken cancellationToken = default) =>
        Manager.CreateAsync(request ?? new SandboxRequest(null), cancellationToken);

    /// <summary>Completes once the daemon released the sandbox (VM gone, final status recorded), within the bound.</summary>
    public Task WaitReleasedAsync(string sandboxId) => Manager.WhenReleased(sandboxId).WaitAsync(Waits.Bound);

    /// <summary>Asserts the daemon holds nothing of the sandbox any more: no VM, no work directory.</summary>
    public void AssertNothingLeftOf(string sandboxId)
    {
        Assert.Empty(Backend.Leaked);
        Assert.All(Backend.Vms.Where(v => v.Id == sandboxId), v => Assert.True(v.Exited.IsCompleted, "the fake VM still runs"));
        Assert.False(Directory.Exists(WorkDir(sandboxId)), "the sandbox's work directory is still there");
    }

    public async ValueTask DisposeAsync()
    {
        var shutdown = Manager.ShutdownAsync();
        if (await Task.WhenAny(shutdown, Task.Delay(Waits.Shutdown)) != shutdown)
        {
            // Say what was still alive, so a hang can be told from a slow machine.
            var alive = Manager.List(all: false, clientKey: null, limit: 20).Select(r => $"{r.Id} {r.Status}");
            throw new TimeoutException($"the manager's shutdown did not finish within {Waits.Shutdown.TotalSeconds:0} s; not yet stopped: [{string.Join(", ", alive)}]");
        }

        await shutdown;
        Store.Dispose();
        _images.Dispose();
        _root.Delete(recursive: true);
    }
}
