using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Cleanroom.Daemon.Admission;
using Cleanroom.Daemon.Events;
using Cleanroom.Daemon.Executions;
using Cleanroom.Daemon.PolicySupport;
using Cleanroom.Daemon.Services;
using Cleanroom.Daemon.State;
using Cleanroom.Escaping;
using Cleanroom.Guest.Wire;
using Cleanroom.Guest.Wire.Host;
using Cleanroom.Guest.Wire.Messages;
using Cleanroom.Images;
using Cleanroom.Network;
using Cleanroom.Oci;
using Cleanroom.Vm;
using Cleanroom.Vm.Assets;
using Microsoft.Extensions.Logging;

namespace Cleanroom.Daemon.Sandboxes;

/// <summary>
/// The sandbox lifecycle. Every sandbox is a <see cref="SandboxEntry"/> from admission on, so a terminate, a
/// daemon shutdown or a client that goes away reaches it while it boots too. Create (admission before any file,
/// then VM + agent handshake, undone completely on failure or cancellation), watch (a VM that dies or a guest that
/// breaks the protocol marks it FAILED), terminate, removal of sandboxes whose client went away, and recovery after
/// a daemon restart.
/// </summary>
public sealed partial class SandboxManager : IAsyncDisposable
{
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(3);

    /// <summary>
    /// How long a restored guest may take to answer and to confirm its configuration. A restore skips the boot, so a
    /// guest this slow is broken; the create then boots cold instead of waiting out the full launch timeout.
    /// </summary>
    private static readonly TimeSpan WarmAgentTimeout = TimeSpan.FromSeconds(20);
    private readonly DaemonOptions _options;
    private readonly StateStore _store;
    private readonly IVmBackend _backend;
    private readonly Func<BootAssets> _assets;
    private readonly ImageManager _images;
    private readonly AdmissionControl _admission;
    private readonly DiskReserve _disk;
    private readonly ExecutionLogs _logs;
    private readonly SandboxEventStore? _events;
    private readonly Templates.TemplateCache? _templates;
    private readonly Pool.WarmPool? _pool;
    private readonly SandboxNetworks? _networks;
    private readonly Workspaces.WorkspaceProvisioner? _workspaces;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, SandboxEntry> _entries = new();
    private readonly RunningExecutions _running = new();
    private readonly Lock _admissionGate = new();
    private readonly KeyedGate _keyedCreates = new();
    private bool _shuttingDown;

    /// <param name="events">Where status changes are recorded; none in tests that do not look.</param>
    /// <param name="networks">The host's sandbox networks; null: sandboxes get no network card at all.</param>
    /// <param name="workspaces">Where repository checkouts come from; null: a create that asks for one is refused.</param>
    public SandboxManager(DaemonOptions options, StateStore store, IVmBackend backend, Func<BootAssets> assets, ImageManager images, DiskReserve disk, ExecutionLogs logs, ILogger<SandboxManager> logger, SandboxEventStore? events = null, SandboxNetworks? networks = null, Workspaces.WorkspaceProvisioner? workspaces = null)
    {
        _workspaces = workspaces;
        _events = events;
        _networks = networks;
        _options = options;
        _store = store;
        _backend = backend;
        _assets = assets;
        _images = images;
        _disk = disk;
        _logs = logs;
        _admission = new AdmissionControl(options.Limits, disk);
        _logger = logger;
        Directory.CreateDirectory(SandboxesRoot);
        if (options.Templates && backend.SupportsTemplates)
        {
            _templates = new Templates.TemplateCache(backend, Path.Combine(options.StateDir, "templates"), SandboxesRoot, UntilServingAsync, logger);
            if (options.WarmPool > 0)
            {
                // Restores are CPU-bound (under TCG, all of QEMU's translation): about one at a time per core.
                _pool = new Pool.WarmPool(options.WarmPool, Math.Clamp(Environment.ProcessorCount, 1, 4), _admissionGate, MakePooledVmAsync, PoolFits, DiscardPooledAsync, logger);
            }
        }
    }

    /// <summary>Stops the warm pool's VMs and releases the templates (their memory); sandboxes are stopped by <see cref="ShutdownAsync"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_pool is not null)
        {
            await _pool.DisposeAsync();
        }

        if (_templates is not null)
        {
            await _templates.DisposeAsync();
        }
    }

    public string BackendName => _backend.Name;

    private string SandboxesRoot => Path.Combine(_options.StateDir, "sandboxes");

    /// <summary>
    /// Runs once at start-up, before the API serves. A sandbox that was READY when the previous daemon stopped or died
    /// and whose VM still runs is taken over: its VM, console, firewall, DNS filter and agent connection are attached
    /// again and it stays READY (<see cref="AdoptAsync"/>). Everything else is gone or orphaned: stray VMs are killed,
    /// their work directories deleted, and their sandboxes recorded as failed, saying why. Commands that were running
    /// in a sandbox taken over go on (see <see cref="TakeOverExecutions"/>); those of any other sandbox are recorded
    /// as lost.
    /// </summary>
    public async Task RecoverAsync(CancellationToken cancellationToken)
    {
        var adopted = new ConcurrentDictionary<string, byte>(StringComparer.Ordinal);
        var notAdopted = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        var survivors = _store.ListLiveSandboxes().ToList();

        // A few at a time: each mostly waits (on its guest's next look for a host, on nft), and the API serves only
        // once all are done.
        await Parallel.ForEachAsync(
            survivors.Where(s => s.Status == SandboxStatus.Ready),
            new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = cancellationToken },
            async (sandbox, ct) =>
            {
                if (!_backend.SupportsAdoption || sandbox.Backend != _backend.Name)
                {
                    notAdopted[sandbox.Id] = $"the {_backend.Name} backend cannot take over a running {sandbox.Backend} VM";
                    return;
                }

                try
                {
                    await AdoptAsync(sandbox, ct);
                    adopted[Path.GetFullPath(sandbox.WorkDir)] = 0;
                }
                catch (Exception ex) when (ex is VmException or WireProtocolException or DaemonException or IOException or InvalidOperationException or Cleanroom.HostProcesses.HostCommandException or Cleanroom.Policy.PolicyValidationException or ImageNotFoundException)
                {
                    notAdopted[sandbox.Id] = UntrustedText.Escape(ex.Message, 300);
                    _logger.LogWarning("sandbox {Id} could not be taken over after the restart: {Reason}", sandbox.Id, notAdopted[sandbox.Id]);
                }
            });

        var adoptedDirs = adopted.Keys.ToHashSet(StringComparer.Ordinal);
        await _backend.ReapLeftoversAsync(SandboxesRoot, adoptedDirs, cancellationToken);
        if (_networks is not null)
        {
            foreach (var tap in await _networks.RemoveStaleTapsAsync(cancellationToken))
            {
                _logger.LogWarning("deleted TAP device {Tap}: it outlived its VM", tap);
            }
        }

        foreach (var sandbox in survivors.Where(s => !_entries.ContainsKey(s.Id)))
        {
            var why = notAdopted.TryGetValue(sandbox.Id, out var reason)
                ? "the VM could not be taken over after a daemon restart: " + reason
                : $"the daemon stopped while the sandbox was {StatusName(sandbox.Status)}";
            _logger.LogWarning("sandbox {Id} was {Status} when the daemon stopped; marking it failed: {Reason}", sandbox.Id, sandbox.Status, why);
            _store.UpsertSandbox(sandbox with
            {
                Status = SandboxStatus.Failed,
                StatusMessage = why,
                UpdatedAt = DateTimeOffset.UtcNow,
            });
            if (sandbox.AutoRemove)
            {
                _logs.DeleteSandbox(sandbox.Id);
            }
        }

        foreach (var execution in _store.ListUnfinishedExecutions().Where(e => FindRunner(e.Id) is null))
        {
            _store.UpsertExecution(execution with { Status = ExecutionStatus.Failed, ExitCode = 1, Error = "lost: the daemon stopped while the command ran, and its sandbox was not taken over", FinishedAt = DateTimeOffset.UtcNow });
        }

        foreach (var dir in Directory.EnumerateDirectories(SandboxesRoot).Where(d => !adoptedDirs.Contains(Path.GetFullPath(d))))
        {
            TryDeleteDirectory(dir);
        }
    }

    /// <summary>
    /// Takes over a READY sandbox whose VM an earlier daemon left running: the VM (its process, console and QMP),
    /// its network (link, firewall chains, DNS filter) from the policy it was created with, its image lease, and a new
    /// agent connection. The sandbox stays READY. On failure everything taken is let go and the VM is stopped.
    /// </summary>
    private async Task AdoptAsync(SandboxRecord record, CancellationToken cancellationToken)
    {
        var policy = record.PolicyJson.Length > 0 ? Cleanroom.Policy.CompiledPolicy.FromJson(record.PolicyJson) : null;
        var spec = new VmSpec(record.Id, record.WorkDir, _assets(), record.Vcpus, record.MemoryMiB);
        var entry = new SandboxEntry(record, new SandboxDemand(record.Vcpus, (long)record.MemoryMiB << 20, policy?.Resources.DiskBytes ?? 0));
        IVm? vm = null;
        AgentClient? agent = null;
        var networkAttached = false;
        var running = new List<(ExecutionRecord Record, OutputLog Log)>();
        try
        {
            if (Digest.TryParse(record.ImageDigest, out var digest))
            {
                entry.ImageLease = _images.AcquireLease(digest);
            }

            var started = Stopwatch.GetTimestamp();
            vm = await _backend.AdoptAsync(spec, cancellationToken);
            var vmMs = (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            if (record.GuestAddress.Length > 0)
            {
                var networks = _networks ?? throw new InvalidOperationException("it has a network card, and this daemon runs without sandbox networks");
                var egress = policy?.Network ?? Cleanroom.Policy.NetworkPolicy.DenyAll;
                await networks.ReattachAsync(record.Id, System.Net.IPAddress.Parse(record.GuestAddress), egress, record.AllowAll, cancellationToken);
                networkAttached = true;
                entry.Egress = egress;
            }

            var networkMs = (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds - vmMs;
            running = OpenRunningExecutions(record.Id);
            agent = await ConnectAgentAsync(vm, cancellationToken, WarmAgentTimeout, [.. running.Select(r => new ResumeEntry(r.Record.StreamId, r.Log.OutputBytes))]);
            await agent.PingAsync(cancellationToken);
            TakeOverExecutions(entry, agent, running);
            var agentMs = (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds - vmMs - networkMs;
            var ready = record with { StatusMessage = "taken over after a daemon restart", UpdatedAt = DateTimeOffset.UtcNow };
            _entries[record.Id] = entry;
            entry.TryBecomeReady(ready, vm, agent, _store.UpsertSandbox);
            Announce(ready);
            _ = Task.Run(() => WatchAsync(entry), CancellationToken.None);
            if (ready.AutoRemove)
            {
                // Its client's stream died with the old daemon; one that reconnects holds it again within the grace.
                entry.ArmDetachTimer(_options.DetachedGrace, () => OnDetached(entry));
            }

            _logger.LogInformation("sandbox {Id}: took over its VM (pid {Pid}) after the daemon restart: VM {VmMs} ms, network {NetworkMs} ms, agent {AgentMs} ms", record.Id, vm.Pid, vmMs, networkMs, agentMs);
        }
        catch
        {
            _entries.TryRemove(record.Id, out _);
            _running.Forget(entry);
            foreach (var (_, log) in running)
            {
                log.Dispose();
            }

            if (agent is not null)
            {
                await agent.DisposeAsync();
            }

            if (vm is not null)
            {
                await vm.DisposeAsync();
            }

            if (networkAttached)
            {
                await _networks!.DetachAsync(record.Id);
            }

            entry.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The commands an earlier daemon left running in a sandbox, each with its log opened to go on. A command that had
    /// not started (no stream yet) cannot be taken over: it is recorded as lost here.
    /// </summary>
    private List<(ExecutionRecord Record, OutputLog Log)> OpenRunningExecutions(string sandboxId)
    {
        var running = new List<(ExecutionRecord, OutputLog)>();
        foreach (var execution in _store.ListUnfinishedExecutions(sandboxId))
        {
            if (execution.StreamId == 0)
            {
                _store.UpsertExecution(execution with { Status = ExecutionStatus.Failed, ExitCode = 1, Error = "lost: the daemon stopped before the command started", FinishedAt = DateTimeOffset.UtcNow });
                continue;
            }

            running.Add((execution, _logs.Continue(sandboxId, execution.Id)));
        }

        return running;
    }

    /// <summary>
    /// Gives each command the guest handed over a runner that goes on with it (output appended to its log, its exit
    /// recorded); a command the guest no longer had is recorded as lost, with the guest's reason.
    /// </summary>
    private void TakeOverExecutions(SandboxEntry entry, AgentClient agent, List<(ExecutionRecord Record, OutputLog Log)> running)
    {
        foreach (var (execution, log) in running)
        {
            if (!agent.TakenOver.TryGetValue(execution.StreamId, out var process))
            {
                log.Dispose();
                var why = agent.NotTakenOver.GetValueOrDefault(execution.StreamId, "the guest did not answer for it");
                _store.UpsertExecution(execution with { Status = ExecutionStatus.Failed, ExitCode = 1, Error = "lost: the command could not be taken over after the daemon restart: " + why, FinishedAt = DateTimeOffset.UtcNow });
                continue;
            }

            var runner = new ExecutionRunner(execution, log, _store, new OutputBudget(_options.MaxOutputBytes, _disk), _logger);
            _running.Add(entry, execution.Id, runner);
            runner.TakeOver(process);
            _logger.LogInformation("execution {Id} in sandbox {Sandbox}: taken over after the daemon restart, {Bytes} output bytes already stored", execution.Id, entry.Id, log.OutputBytes);
        }
    }

    /// <summary>Boots a sandbox (or, for a request with a client key, reuses one: see <see cref="CreateOrReuseAsync"/>).</summary>
    public async Task<SandboxRecord> CreateAsync(SandboxRequest request, CancellationToken cancellationToken) =>
        (await CreateOrReuseAsync(request, cancellationToken)).Record;

    /// <summary>
    /// Without a client key, boots a sandbox. With one, returns the sandbox created with that key while it is ready
    /// (Reused) and boots one only when there is none: creates with one key run one at a time here, in the daemon,
    /// so concurrent callers in any number of client processes get one sandbox. A keyed sandbox that is stopping is
    /// waited for and replaced; a stopped or failed one is replaced.
    /// </summary>
    public async Task<(SandboxRecord Record, bool Reused)> CreateOrReuseAsync(SandboxRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var key = SandboxClientKey.Validate(request.ClientKey);
        if (key is null)
        {
            return (await CreateNewAsync(request with { ClientKey = null }, cancellationToken), false);
        }

        if (request.AutoRemove)
        {
            throw DaemonException.InvalidArgument("client_key and auto_remove cannot be combined: a keyed sandbox is kept for reuse until it is terminated");
        }

        using var held = await _keyedCreates.EnterAsync(key, cancellationToken);
        while (_entries.Values.FirstOrDefault(e => e.Record.ClientKey == key && !e.Record.IsTerminal) is { } existing)
        {
            if (existing.IsReady)
            {
                return (existing.Record, true);
            }

            // Stopping: its replacement boots once it is gone. (A keyed one cannot be booting: that happens under this lock.)
            await existing.Released.WaitAsync(cancellationToken);
        }

        return (await CreateNewAsync(request, cancellationToken), false);
    }

    private async Task<SandboxRecord> CreateNewAsync(SandboxRequest request, CancellationToken cancellationToken)
    {
        // Everything that can refuse the request runs before any record, file or process exists.
        if (request.Policy is { } policy)
        {
            PolicyEnforcement.EnsureSupported(policy, new PolicyEnforcement.DaemonFeatures(Network: _networks is not null, AllowAll: request.AllowAll));
        }
        else if (request.AllowAll && _networks is null)
        {
            PolicyEnforcement.EnsureSupported(null, new PolicyEnforcement.DaemonFeatures(Network: false, AllowAll: true));
        }

        var repositorySettings = request.Policy?.Repository ?? Cleanroom.Policy.RepositorySettings.Default;
        if (request.Repository is { } repository)
        {
            _ = _workspaces ?? throw new DaemonException(Grpc.Core.StatusCode.FailedPrecondition, ReasonCode.BackendCapabilityMismatch, "this daemon has no workspace store, so it cannot check a repository out");
            Workspaces.WorkspaceProvisioner.Validate(repository, repositorySettings);
        }

        // The explicit image wins, then the policy's; neither means the built-in image.
        var requested = !string.IsNullOrWhiteSpace(request.ImageRef) ? request.ImageRef.Trim() : request.Policy?.Image.Reference;
        var imageRef = SandboxImage.ParseRequested(requested);
        var floors = request.Policy?.Resources ?? Cleanroom.Policy.ResourceFloors.None;
        var vcpus = Math.Max(request.Vcpus > 0 ? request.Vcpus : _options.DefaultVcpus, floors.Vcpus ?? 0);
        var memoryBytes = Math.Max((long)(request.MemoryMiB > 0 ? request.MemoryMiB : _options.DefaultMemoryMiB) << 20, floors.MemoryBytes ?? 0);
        var started = Stopwatch.GetTimestamp();
        var recipe = PoolRecipeFor(request, imageRef, vcpus, memoryBytes, floors);
        var pooled = recipe is null ? null : await _pool!.TakeAsync(recipe, PoolWait, cancellationToken);
        var id = pooled?.Id ?? Ids.New();
        var record = new SandboxRecord
        {
            Id = id,
            Status = SandboxStatus.Provisioning,
            Backend = _backend.Name,
            ImageRef = imageRef?.Reference ?? BuiltinImage.Ref,
            PolicyHash = request.Policy?.Hash ?? "",
            PolicyJson = request.Policy?.ToJson() ?? "",
            Vcpus = vcpus,
            MemoryMiB = (int)Math.Min(memoryBytes >> 20, int.MaxValue),
            WorkDir = Path.Combine(SandboxesRoot, id),
            CreatedAt = DateTimeOffset.UtcNow,
            UpdatedAt = DateTimeOffset.UtcNow,
            AutoRemove = request.AutoRemove,
            AllowAll = request.AllowAll,
            ClientKey = request.ClientKey ?? "",
        };
        SandboxEntry entry;
        try
        {
            entry = Admit(record, new SandboxDemand(vcpus, memoryBytes, floors.DiskBytes ?? 0));
        }
        catch when (pooled is not null)
        {
            await DiscardPooledAsync(pooled);
            throw;
        }

        var phases = new List<BootPhase>();
        using var boot = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, entry.Boot.Token);
        IVm? vm = null;
        AgentClient? agent = null;
        SandboxNetwork? network = null;
        try
        {
            if (pooled is not null)
            {
                // The sandbox owns the pooled VM from here: a failure below stops it like any other.
                (vm, agent, network) = (pooled.Vm, pooled.Agent, pooled.Network);
            }

            _store.UpsertSandbox(record);
            Announce(record);
            var accel = await _backend.ResolveAccelAsync(boot.Token);
            record = record with { Accelerator = accel.Mode.ToString().ToLowerInvariant() };
            Directory.CreateDirectory(record.WorkDir);
            string? rootImage = null;
            string? imageUser = null;
            if (imageRef is not null)
            {
                // Leased from the moment it is chosen: no rm, prune or eviction can take it from under the boot.
                var (image, lease) = await _images.EnsureLeasedAsync(imageRef, boot.Token);
                entry.ImageLease = lease;
                record = record with { ImageDigest = image.Digest.ToString() };
                entry.Record = record;
                _store.UpsertSandbox(record);
                ReAdmit(entry, entry.Demand with { DiskBytes = Math.Max(entry.Demand.DiskBytes, image.FilesystemBytes) });
                rootImage = image.RootfsPath;
                imageUser = image.Defaults.User;
            }

            if (pooled is not null)
            {
                pooled.ImageLease?.Dispose(); // the sandbox holds its own lease now
                var why = pooled.ImageDigest != (imageRef is null ? null : record.ImageDigest) || PoolKey(record.Accelerator, rootImage, pooled.Recipe) != pooled.Key
                    ? "it no longer matches the image or assets" // a tag moved, or an asset was rebuilt, since it was made
                    : await PooledVmProblemAsync(pooled, boot.Token);
                if (why is not null)
                {
                    _logger.LogInformation("sandbox {Id}: not using the pooled VM ({Why}); starting anew", id, why);
                    (vm, agent, network) = (null, null, null);
                    await DiscardPooledAsync(pooled);
                    pooled = null;
                    Directory.CreateDirectory(record.WorkDir); // the pooled VM's directory went with it
                }
            }

            string? workspaceImage = null;
            if (request.Repository is { } checkout)
            {
                // The image is the store's (shared by every sandbox on this commit); the guest's writes go to its overlay.
                (var workspace, workspaceImage) = await _workspaces!.PrepareAsync(
                    checkout, repositorySettings, request.Policy?.Network ?? Cleanroom.Policy.NetworkPolicy.DenyAll, request.AllowAll, boot.Token);
                record = record with { Workspace = workspace };
                entry.Record = record;
                _store.UpsertSandbox(record);
            }

            if (_networks is not null)
            {
                var egress = request.Policy?.Network ?? Cleanroom.Policy.NetworkPolicy.DenyAll;
                try
                {
                    if (pooled is not null)
                    {
                        // The pooled VM waited deny-all on its own link; now it gets this sandbox's policy.
                        await _networks.ChangePolicyAsync(id, egress, request.AllowAll);
                    }
                    else
                    {
                        network = await _networks.AttachAsync(id, egress, request.AllowAll, boot.Token);
                    }
                }
                catch (Exception ex) when (ex is Cleanroom.HostProcesses.HostCommandException or IOException or UnauthorizedAccessException or InvalidOperationException)
                {
                    // Said as what it is: a host tool's failure here is the network's, not the root file system's.
                    throw new DaemonException(Grpc.Core.StatusCode.Unavailable, ReasonCode.RuntimeLaunchFailed, $"sandbox {id}: setting up its network failed: {ex.Message}");
                }
                record = record with { GuestAddress = network!.Link.GuestAddress.ToString() };
                entry.Record = record;
                entry.Egress = egress;
            }

            // A disk floor above the image's size: the backend boots a private copy grown to it (the image stays as is).
            // The built-in image boots at its own size, as it always has.
            var spec = new VmSpec(id, record.WorkDir, _assets(), record.Vcpus, record.MemoryMiB)
            {
                RootImagePath = rootImage,
                RootDiskMinBytes = rootImage is null ? null : floors.DiskBytes,
                Network = network is null ? null : new VmNetworkInterface(network.Tap, network.Link.Mac),
                WorkspaceImagePath = workspaceImage,
                ExtraKernelArgs =
                [
                    .. SandboxIdentityArguments.For(id),
                    .. network?.Link.KernelArguments ?? [],
                    .. record.Workspace is { } mounted ? WorkspaceArguments(id, mounted.Path, imageUser) : [],
                ],
            };
            phases.Add(new BootPhase("prepare", (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds));
            var start = new SandboxStart(spec, record.Accelerator);
            try
            {
                if (pooled is not null)
                {
                    start.Warm = true;
                    start.Note = string.Create(CultureInfo.InvariantCulture, $"taken from the warm pool (restored from template {pooled.Key.Digest} {Stopwatch.GetElapsedTime(pooled.ReadyAt).TotalSeconds:0.0} s before)");
                }
                else
                {
                    (vm, agent) = await StartWarmAsync(start, boot.Token);
                }

                if (vm is null)
                {
                    (vm, agent) = await BootColdAsync(spec, start, phases, boot.Token);
                    await WarmUpColdBootAsync(id, agent, start, phases, boot.Token);
                }
                else
                {
                    phases.AddRange(start.Phases);
                }
            }
            finally
            {
                // QEMU has its own copy now (or never will): from here the TAP lives exactly as long as the VM. Kept
                // until here so a failed warm start can still fall back to a cold boot on the same TAP.
                network?.ReleaseTap();
            }

            if (vm is null || agent is null)
            {
                throw new InvalidOperationException("the VM started without an agent connection");
            }

            record = record with
            {
                Status = SandboxStatus.Ready,
                BootMs = (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds,
                UpdatedAt = DateTimeOffset.UtcNow,
                StartMode = start.Warm ? "warm" : "cold",
                StartNote = start.Note,
                BootPhases = phases,
                StatusMessage = start.Warm ? "warm start: " + start.Note : start.Note.Length > 0 ? "cold boot: " + start.Note : "",
            };
            if (!entry.TryBecomeReady(record, vm, agent, _store.UpsertSandbox))
            {
                throw new OperationCanceledException("terminated while booting");
            }

            Announce(record);

            _ = Task.Run(() => WatchAsync(entry), CancellationToken.None);
            if (record.AutoRemove)
            {
                entry.ArmDetachTimer(_options.DetachedGrace, () => OnDetached(entry));
            }

            _logger.LogInformation("sandbox {Id} ready in {Ms} ms ({Accel}, {Mode})", id, record.BootMs, record.Accelerator, record.StartMode);
            if (recipe is not null)
            {
                _pool!.Want(recipe);
            }

            return record;
        }
        catch (Exception ex)
        {
            var terminated = entry.IsTerminating || entry.Boot.IsCancellationRequested;
            entry.TryBeginTermination(out _);
            pooled?.ImageLease?.Dispose();
            var reason = terminated ? "terminated while booting"
                : ex is OperationCanceledException ? "the create was cancelled (its client went away)"
                : ex.Message;
            _logger.LogWarning("sandbox {Id} did not start: {Reason}", id, reason);
            if (agent is not null)
            {
                await agent.DisposeAsync();
            }

            if (vm is not null)
            {
                await vm.DisposeAsync();
            }

            if (network is not null)
            {
                await _networks!.DetachAsync(id);
            }

            TryDeleteDirectory(record.WorkDir);
            var final = record with
            {
                Status = terminated ? SandboxStatus.Stopped : SandboxStatus.Failed,
                StatusMessage = terminated ? "terminated while booting" : "create failed: " + reason,
                UpdatedAt = DateTimeOffset.UtcNow,
            };
            entry.Record = final;
            try
            {
                _store.UpsertSandbox(final);
                Announce(final);
            }
            finally
            {
                // Even when the record cannot be written, the entry goes: a terminate waiting on it must not hang.
                Forget(entry);
            }

            throw terminated ? new DaemonException(Grpc.Core.StatusCode.Aborted, ReasonCode.FailedPrecondition, $"sandbox {id} was terminated while it was booting")
                : ex is DaemonException ? ex
                : ex is OperationCanceledException ? ex
                : ImageErrors.Translate(ex) is { } imageError ? imageError
                : new DaemonException(Grpc.Core.StatusCode.Unavailable, ReasonCode.RuntimeLaunchFailed, $"sandbox {id} failed to start: {reason}");
        }
    }

    public SandboxRecord Get(string id) =>
        _entries.TryGetValue(ValidId(id), out var entry) ? entry.Record : _store.GetSandbox(id) ?? throw DaemonException.SandboxNotFound(id);

    /// <summary>
    /// Newest first, at most <paramref name="limit"/>, from one bounded query (the records of stopped sandboxes pile
    /// up; a listing must not read them all), each as its live record when the sandbox is loaded.
    /// </summary>
    /// <param name="all">Include stopped and failed sandboxes.</param>
    /// <param name="clientKey">Only those created with this key; null or empty for every sandbox.</param>
    /// <param name="limit">The most to return.</param>
    public IReadOnlyList<SandboxRecord> List(bool all, string? clientKey, int limit) =>
        _store.ListSandboxes(all, clientKey, limit)
            .Select(s => _entries.TryGetValue(s.Id, out var entry) ? entry.Record : s).Where(s => all || !s.IsTerminal).ToList();

    /// <summary>
    /// A client uses the sandbox for as long as the returned handle lives. A sandbox created for one exec is removed
    /// once no client has held it for <see cref="DaemonOptions.DetachedGrace"/> (its client died or lost the daemon).
    /// </summary>
    public IDisposable Hold(string id) =>
        _entries.TryGetValue(id, out var entry) && entry.Record.AutoRemove
            ? entry.Hold(_options.DetachedGrace, () => OnDetached(entry))
            : NoHold.Instance;

    /// <summary>
    /// Stops the sandbox and records STOPPED: a booting one stops booting and undoes what it made; a ready one is
    /// asked to power off, then its VM is stopped. Its work directory and its executions' output go with it.
    /// </summary>
    public async Task<SandboxRecord> TerminateAsync(string id, string reason)
    {
        if (!_entries.TryGetValue(ValidId(id), out var entry))
        {
            var record = _store.GetSandbox(id) ?? throw DaemonException.SandboxNotFound(id);
            TryDeleteDirectory(record.WorkDir);
            _logs.DeleteSandbox(id);
            return record;
        }

        if (!entry.TryBeginTermination(out var wasBooting))
        {
            await entry.Released;
            return Get(id);
        }

        if (wasBooting)
        {
            // The create owns the boot's resources: cancel it and let it undo them.
            await entry.Boot.CancelAsync();
            await entry.Released;
            _logs.DeleteSandbox(id);
            return Get(id);
        }

        SetStatus(entry, SandboxStatus.Stopping, reason);
        foreach (var runner in entry.Executions.Values)
        {
            runner.MarkAborted("the sandbox was terminated while the command was running");
        }

        try
        {
            using var timeout = new CancellationTokenSource(StopGrace);
            await entry.Agent!.ShutdownAsync(timeout.Token);
            await entry.Vm!.Exited.WaitAsync(timeout.Token);
        }
        catch (Exception ex) when (ex is WireProtocolException or OperationCanceledException or TimeoutException)
        {
            _logger.LogInformation("sandbox {Id}: guest did not power off by itself ({Reason}); stopping the VM", id, ex.Message);
        }

        await ReleaseAsync(entry, SandboxStatus.Stopped, reason, deleteLogs: true);
        return entry.Record;
    }

    /// <summary>
    /// Terminates every sandbox, booting ones included (daemon shutdown). New creates are refused from here on: one
    /// admitted after the snapshot would outlive the network's teardown.
    /// </summary>
    public Task ShutdownAsync()
    {
        lock (_admissionGate)
        {
            _shuttingDown = true;
        }

        return ShutdownAllAsync();
    }

    /// <summary>
    /// Daemon shutdown that keeps the sandboxes (<c>--on-stop keep</c>): booting ones are terminated (a boot cannot be
    /// handed over), ready ones are let go of with their VMs still running and stay READY in the store, for the next
    /// daemon on this state directory to take over, and so do their running commands. New creates are refused from
    /// here on.
    /// </summary>
    public async Task LeaveRunningAsync()
    {
        lock (_admissionGate)
        {
            _shuttingDown = true;
        }

        await Task.WhenAll(_entries.Values.Select(async entry =>
        {
            if (!entry.TryBeginTermination(out var wasBooting))
            {
                await entry.Released;
                return;
            }

            if (wasBooting)
            {
                await entry.Boot.CancelAsync();
                await entry.Released;
                return;
            }

            foreach (var runner in entry.Executions.Values)
            {
                runner.LeaveRunning();
            }

            await entry.Agent!.DisposeAsync();
            await entry.Vm!.DetachAsync();
            await Task.WhenAll(entry.Executions.Values.Select(r => r.Finished)).WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(_ => { }, TaskScheduler.Default);
            entry.Record = entry.Record with { StatusMessage = "left running when the daemon stopped", UpdatedAt = DateTimeOffset.UtcNow };
            _store.UpsertSandbox(entry.Record);
            _logger.LogInformation("sandbox {Id}: left running (VM pid {Pid}) for the next daemon to take over", entry.Id, entry.Vm.Pid);
            Forget(entry);
        }));
        await DisposeAsync();
    }

    private async Task ShutdownAllAsync()
    {
        await TerminateAllAsync();
        await DisposeAsync();
    }

    private Task TerminateAllAsync() =>
        Task.WhenAll(_entries.Keys.Select(async id =>
        {
            try
            {
                await TerminateAsync(id, "stopped at daemon shutdown");
            }
            catch (DaemonException)
            {
                // Gone meanwhile.
            }
        }));

    public async Task<ExecutionRunner> StartExecutionAsync(string sandboxId, ExecRequest request, bool attachStdin, CancellationToken cancellationToken)
    {
        var entry = GetReady(sandboxId);
        _disk.EnsureAvailable("new executions");
        var id = Ids.New();
        var record = new ExecutionRecord
        {
            Id = id,
            SandboxId = entry.Id,
            Status = ExecutionStatus.Queued,
            Command = request.Argv,
            Tty = request.Tty,
            CreatedAt = DateTimeOffset.UtcNow,
        };
        var log = _logs.Create(entry.Id, id);
        _store.UpsertExecution(record);
        var runner = new ExecutionRunner(record, log, _store, new OutputBudget(_options.MaxOutputBytes, _disk), _logger);
        _running.Add(entry, id, runner);
        entry.Record = entry.Record with { LastExecutionId = id, UpdatedAt = DateTimeOffset.UtcNow };
        _store.UpsertSandbox(entry.Record);
        await runner.StartAsync(entry.Agent!, request, attachStdin, cancellationToken);
        return runner;
    }

    /// <summary>Turns auto-remove off for a READY sandbox: it stays until terminated.</summary>
    public SandboxRecord Keep(string sandboxId)
    {
        var entry = GetReady(sandboxId);
        entry.Record = entry.Record with { AutoRemove = false, UpdatedAt = DateTimeOffset.UtcNow };
        _store.UpsertSandbox(entry.Record);
        return entry.Record;
    }

    /// <summary>Records that the client copied its local changes into the workspace of a READY sandbox.</summary>
    public void MarkLocalChangesCopied(string sandboxId)
    {
        var entry = GetReady(sandboxId);
        if (entry.Record.Workspace is { } workspace)
        {
            entry.Record = entry.Record with { Workspace = workspace with { LocalChangesCopied = true }, UpdatedAt = DateTimeOffset.UtcNow };
            _store.UpsertSandbox(entry.Record);
        }
    }

    /// <summary>The agent connection of a READY sandbox (for the file tools); not-ready and unknown ids are refused.</summary>
    public AgentClient ReadyAgent(string sandboxId) => GetReady(sandboxId).Agent!;

    /// <summary>Completes once a live sandbox is released (VM gone, final status recorded); at once for one that is not live (a seam for tests).</summary>
    internal Task WhenReleased(string id) => _entries.TryGetValue(id, out var entry) ? entry.Released : Task.CompletedTask;

    /// <summary>The id of a live sandbox booted (or booting) from <paramref name="digest"/>, if any (such an image cannot be removed).</summary>
    public string? SandboxUsingImage(Digest digest) =>
        _entries.Values.FirstOrDefault(e => e.Record.ImageDigest == digest.ToString() && !e.IsTerminating)?.Id;

    /// <summary>
    /// The network policy a live sandbox was attached with, and whether it allows all; null when it has no network (or
    /// is not live). Executions get the gateway's variables from it.
    /// </summary>
    public (Cleanroom.Policy.NetworkPolicy Policy, bool AllowAll)? Egress(string sandboxId) =>
        _entries.TryGetValue(sandboxId, out var entry) && entry.Egress is { } policy ? (policy, entry.Record.AllowAll) : null;

    /// <summary>The run defaults (env, workdir, user, entrypoint) of the image a sandbox booted from; empty for the built-in image.</summary>
    public RunDefaults ImageDefaults(SandboxRecord sandbox) =>
        Digest.TryParse(sandbox.ImageDigest, out var digest) && _images.Find(digest) is { } image ? image.Defaults : new RunDefaults();

    /// <summary>The runner of a running execution, or null when it finished (then the store has it).</summary>
    public ExecutionRunner? FindRunner(string executionId) => _running.Find(executionId);

    /// <summary>The id of the newest execution still running in a sandbox, if any.</summary>
    public string ActiveExecutionId(string sandboxId) =>
        _entries.TryGetValue(sandboxId, out var entry)
            ? entry.Executions.Values.Select(r => r.Record).OrderByDescending(r => r.CreatedAt).FirstOrDefault()?.Id ?? ""
            : "";

    /// <summary>The output log of a finished execution (empty when it was pruned or went with its sandbox).</summary>
    public OutputLog OpenFinishedLog(ExecutionRecord execution) => _logs.OpenFinished(execution.SandboxId, execution.Id);

    private static string ValidId(string id) => Ids.IsValid(id) ? id : throw DaemonException.InvalidArgument($"{Ids.Describe(id)} is not a valid id (26 lowercase ULID characters)");

    /// <summary>Where the agent mounts the workspace and, for an image whose default user is not root, who owns it.</summary>
    private string[] WorkspaceArguments(string id, string guestPath, string? imageUser)
    {
        var owner = Workspaces.WorkspaceOwnerArgument.For(imageUser, out var refused);
        if (refused)
        {
            _logger.LogWarning("sandbox {Id}: the image's user {User} is not a plain name or uid[:gid]; its workspace stays root's", id, Cleanroom.Escaping.UntrustedText.Quote(imageUser!));
        }

        return owner is null
            ? [Workspaces.WorkspaceProvisioner.KernelArgument(guestPath)]
            : [Workspaces.WorkspaceProvisioner.KernelArgument(guestPath), owner];
    }

    private static string StatusName(SandboxStatus status) => status.ToString().ToLowerInvariant();

    private SandboxEntry GetReady(string id)
    {
        if (_entries.TryGetValue(ValidId(id), out var entry) && entry.IsReady)
        {
            return entry;
        }

        var record = entry?.Record ?? _store.GetSandbox(id) ?? throw DaemonException.SandboxNotFound(id);
        var why = record.StatusMessage.Length > 0 ? $" ({record.StatusMessage})" : "";
        throw DaemonException.NotReady($"sandbox {id} is not ready: it is {StatusName(record.Status)}{why}");
    }

    /// <summary>Checks the caps and claims the capacity in one step, so two creates cannot both take the last of it.</summary>
    private SandboxEntry Admit(SandboxRecord record, SandboxDemand demand)
    {
        lock (_admissionGate)
        {
            if (_shuttingDown)
            {
                throw new DaemonException(Grpc.Core.StatusCode.Unavailable, ReasonCode.FailedPrecondition, "the daemon is shutting down");
            }

            try
            {
                _admission.Admit(demand, _entries.Values.Select(e => e.Demand).Concat(_pool?.DemandsHeld() ?? []));
            }
            catch (DaemonException) when (_pool is not null && _pool.ReleaseAllHeld())
            {
                // The pool only holds room while nobody needs it: empty it and ask again.
                _logger.LogInformation("warm pool emptied: sandbox {Id} needs its room", record.Id);
                _admission.Admit(demand, _entries.Values.Select(e => e.Demand));
            }

            var entry = new SandboxEntry(record, demand);
            _entries[record.Id] = entry;
            return entry;
        }
    }

    /// <summary>The demand grew once the image's size was known: check it again against the others.</summary>
    private void ReAdmit(SandboxEntry entry, SandboxDemand demand)
    {
        lock (_admissionGate)
        {
            _admission.Admit(demand, _entries.Values.Where(e => e != entry).Select(e => e.Demand).Concat(_pool?.DemandsHeld() ?? []));
            entry.Demand = demand;
        }
    }

    private void Forget(SandboxEntry entry)
    {
        _entries.TryRemove(entry.Id, out _);
        _running.Forget(entry);
        entry.MarkReleased();
        entry.Dispose();
    }

    private void OnDetached(SandboxEntry entry)
    {
        if (!entry.Record.AutoRemove)
        {
            return; // kept since the timer was armed
        }

        _logger.LogInformation("sandbox {Id}: no client has held it for {Seconds} s; removing it", entry.Id, _options.DetachedGrace.TotalSeconds);
        _ = Task.Run(async () =>
        {
            try
            {
                await TerminateAsync(entry.Id, "removed by the daemon: the client that created it went away");
            }
            catch (Exception ex) when (ex is DaemonException or IOException)
            {
                _logger.LogWarning("sandbox {Id}: removal after its client went away failed: {Reason}", entry.Id, ex.Message);
            }
        });
    }

    /// <summary>
    /// Restores the sandbox from its template when one is ready, configures the guest for this sandbox and runs the
    /// warm-up command in it (<see cref="GuestWarmUp"/>), so its first real command costs what a later one does. Returns
    /// (null, null) when the sandbox must boot cold, with the reason in <paramref name="start"/>: no template, or a
    /// warm start that failed (the template is dropped; the create never fails because of the warm path).
    /// </summary>
    private async Task<(IVm? Vm, AgentClient? Agent)> StartWarmAsync(SandboxStart start, CancellationToken cancellationToken)
    {
        if (_templates is null)
        {
            return (null, null);
        }

        var spec = start.Spec;
        if (spec.RootDiskMinBytes is not null)
        {
            start.Note = "a root disk grown past its image is not templated";
            return (null, null);
        }


        var key = Templates.TemplateKey.For(_backend.Name, start.Accelerator, spec.Assets, spec);
        var (template, lease, reason) = _templates.Lookup(key, () =>
        {
            var (directory, workDir, templateId) = _templates.NewLocation(key);
            return new Cleanroom.Vm.Templates.VmTemplateRequest(
                templateId, workDir, directory, spec.Assets, spec.EffectiveRootImagePath, spec.Vcpus, spec.MemoryMiB, spec.Network is not null, spec.WorkspaceImagePath is not null);
        });
        if (template is null)
        {
            start.Note = reason;
            return (null, null);
        }

        IVm? vm = null;
        AgentClient? agent = null;
        try
        {
            var step = Stopwatch.GetTimestamp();
            using (lease)
            {
                // The lease ends once QEMU has its own copies of the template's descriptor and files.
                vm = await _backend.StartAsync(spec with { Template = template }, cancellationToken);
            }

            start.Phases.Add(new BootPhase("restore", (long)Stopwatch.GetElapsedTime(step).TotalMilliseconds));
            step = Stopwatch.GetTimestamp();
            agent = await ConnectAgentAsync(vm, cancellationToken, WarmAgentTimeout);
            start.Phases.Add(new BootPhase("agent", (long)Stopwatch.GetElapsedTime(step).TotalMilliseconds));
            step = Stopwatch.GetTimestamp();
            using (var configure = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                configure.CancelAfter(WarmAgentTimeout);
                try
                {
                    await agent.ConfigureAsync(SandboxConfiguration.For(spec), configure.Token);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new VmException($"the restored guest did not confirm its configuration within {WarmAgentTimeout.TotalSeconds:0} s");
                }
            }

            start.Phases.Add(new BootPhase("configure", (long)Stopwatch.GetElapsedTime(step).TotalMilliseconds));
            await WarmUpAsync(spec.Id, agent, start.Phases, cancellationToken);
            start.Warm = true;
            start.Note = "restored from template " + key.Digest;
            return (vm, agent);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is not OutOfMemoryException)
        {
            var why = UntrustedText.Escape(ex.Message, 300);
            _logger.LogWarning("sandbox {Id}: warm start failed, booting cold: {Reason}", spec.Id, why);
            start.Note = "the warm start failed (" + why + ")";
            start.Phases.Clear();

            // Only what the template itself can be blamed for drops it; a full disk or a busy host does not.
            if (ex is VmException or AgentConfigureException or WireProtocolException)
            {
                _templates.Discard(template, why);
            }

            if (agent is not null)
            {
                await agent.DisposeAsync();
            }

            if (vm is not null)
            {
                await vm.DisposeAsync();
            }

            return (null, null);
        }
        catch
        {
            if (agent is not null)
            {
                await agent.DisposeAsync();
            }

            if (vm is not null)
            {
                await vm.DisposeAsync();
            }

            throw;
        }
    }

    /// <summary>
    /// A cold boot's last step: the warm-up command, as a warm start's (<see cref="GuestWarmUp"/>). The guest warms
    /// its own exec path while it boots, yet the first command after a cold boot still took 1.2 to 1.7 times the
    /// second (bench/bench.py warm), more of it in the guest than in the daemon. Only the first command's speed is at
    /// stake here, so a guest that does not finish it in time is still ready, with the reason in its note. A guest that
    /// breaks the protocol meanwhile fails the create, saying so: its connection is gone.
    /// </summary>
    private async Task WarmUpColdBootAsync(string id, AgentClient agent, SandboxStart start, List<BootPhase> phases, CancellationToken cancellationToken)
    {
        if (!_options.WarmUpColdBoots)
        {
            return;
        }

        try
        {
            await WarmUpAsync(id, agent, phases, cancellationToken);
        }
        catch (VmException ex)
        {
            _logger.LogWarning("sandbox {Id}: {Reason}; it is ready without it", id, ex.Message);
            start.Note = start.Note.Length > 0 ? start.Note + "; " + ex.Message : ex.Message;
        }
        catch (WireProtocolException ex)
        {
            throw new WireProtocolException("guest protocol error during the warm-up command: " + ex.Message, ex);
        }
    }

    /// <summary>Runs the warm-up command (<see cref="GuestWarmUp"/>) and records its time as the <c>warm-up</c> phase.</summary>
    private async Task WarmUpAsync(string id, AgentClient agent, List<BootPhase> phases, CancellationToken cancellationToken)
    {
        var step = Stopwatch.GetTimestamp();
        try
        {
            if (await GuestWarmUp.RunAsync(agent, _options.WarmUpTimeout, cancellationToken) is var exit and not 0)
            {
                _logger.LogDebug("sandbox {Id}: the warm-up command exited {Exit}", id, exit);
            }
        }
        finally
        {
            phases.Add(new BootPhase("warm-up", (long)Stopwatch.GetElapsedTime(step).TotalMilliseconds));
        }
    }

    /// <summary>The template build's readiness check: the agent answers a hello and a ping, then the host disconnects.</summary>
    private async Task UntilServingAsync(IVm vm, CancellationToken cancellationToken)
    {
        await using var agent = await ConnectAgentAsync(vm, cancellationToken);
        await agent.PingAsync(cancellationToken);
    }

    /// <summary>
    /// Boots the sandbox's VM from its kernel and connects to its agent. A guest that has not answered within half the
    /// launch timeout is stopped and booted once more in a new VM, which gets the other half: under TCG a guest
    /// kernel now and then wedges early in its boot with every vCPU busy in interrupt entry and exit (about one boot
    /// in 150 of a Debian image, on a busy 2-core host; KVM could not be tried here), and a second boot comes up as
    /// usual.
    /// The note and the sandbox's phases say so, with what the wedged guest's vCPUs were doing. The root disk's
    /// overlay goes with the first VM; the TAP and the workspace disk are the daemon's and serve the second.
    /// </summary>
    private async Task<(IVm Vm, AgentClient Agent)> BootColdAsync(VmSpec spec, SandboxStart start, List<BootPhase> phases, CancellationToken cancellationToken)
    {
        var firstTry = _options.LaunchTimeout / 2;
        for (var attempt = 1; ; attempt++)
        {
            var vmStarted = Stopwatch.GetTimestamp();
            var vm = await _backend.StartAsync(spec, cancellationToken);
            try
            {
                phases.Add(new BootPhase("vm", (long)Stopwatch.GetElapsedTime(vmStarted).TotalMilliseconds));
                var agentStarted = Stopwatch.GetTimestamp();
                var agent = attempt == 1
                    ? await ConnectAgentAsync(vm, cancellationToken, firstTry, silentGuestIsRetried: true)
                    : await ConnectAgentAsync(vm, cancellationToken, _options.LaunchTimeout - firstTry);
                phases.Add(new BootPhase("agent", (long)Stopwatch.GetElapsedTime(agentStarted).TotalMilliseconds));
                return (vm, agent);
            }
            catch (SilentGuestException silent)
            {
                _logger.LogWarning("sandbox {Id}: {Reason}; booting it again", spec.Id, silent.Message);
                start.Note = $"its first boot was stopped and booted again: {silent.Message}";
                phases[^1] = new BootPhase("wedged boot", (long)Stopwatch.GetElapsedTime(vmStarted).TotalMilliseconds);
                await vm.DisposeAsync();
            }
            catch
            {
                await vm.DisposeAsync();
                throw;
            }
        }
    }

    private async Task<AgentClient> ConnectAgentAsync(IVm vm, CancellationToken cancellationToken, TimeSpan? timeout = null, IReadOnlyList<ResumeEntry>? takeOver = null, bool silentGuestIsRetried = false)
    {
        var limit = timeout ?? _options.LaunchTimeout;
        using var launch = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        launch.CancelAfter(limit);
        var connect = Task.Run(
            async () =>
            {
                var stream = await vm.ConnectAgentAsync(launch.Token);
                try
                {
                    // The launch's deadline bounds the hello (and the takeover); the client's own would race it.
                    return await AgentClient.ConnectAsync(stream, WireLimits.Daemon, Timeout.InfiniteTimeSpan, launch.Token, takeOver);
                }
                catch
                {
                    await stream.DisposeAsync();
                    throw;
                }
            },
            CancellationToken.None);
        var first = await Task.WhenAny(connect, vm.Exited);
        if (first == vm.Exited)
        {
            await launch.CancelAsync();
            _ = connect.ContinueWith(t => t.Result.DisposeAsync(), TaskContinuationOptions.OnlyOnRanToCompletion);
            throw new VmException($"the VM exited during boot (code {await vm.Exited}); console: {ConsoleTail(vm)}");
        }

        try
        {
            return await connect;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            var message = $"the guest agent did not answer within {limit.TotalSeconds:0.#} s; {await StuckGuestAsync(vm, cancellationToken)}";
            throw silentGuestIsRetried ? new SilentGuestException(message) : new VmException(message);
        }
        catch (WireProtocolException ex)
        {
            // A guest that went quiet (or spoke nonsense) during the handshake.
            throw new WireProtocolException($"{ex.Message}; {await StuckGuestAsync(vm, cancellationToken)}", ex);
        }
    }

    /// <summary>Marks the sandbox failed when its VM dies or its guest breaks the protocol, unless we were stopping it.</summary>
    private async Task WatchAsync(SandboxEntry entry)
    {
        var ended = await Task.WhenAny(entry.Vm!.Exited, entry.Agent!.Completion);
        if (entry.IsTerminating)
        {
            return;
        }

        // A dying VMM closes the agent channel as it exits: when the channel ends first, give the exit a moment so
        // the reason names the exit code and the console rather than a closed connection.
        if (ended != entry.Vm.Exited)
        {
            await Task.WhenAny(entry.Vm.Exited, Task.Delay(TimeSpan.FromSeconds(1)));
            ended = entry.Vm.Exited.IsCompleted ? entry.Vm.Exited : ended;
        }

        string reason;
        if (ended == entry.Vm.Exited)
        {
            reason = entry.Vm.WasKilledForMemory
                ? $"the VM was killed for going over its memory limit ({entry.Record.MemoryMiB} MiB guest memory plus the VMM's allowance); console: {ConsoleTail(entry.Vm)}"
                : $"the VM exited unexpectedly (code {await entry.Vm.Exited}); console: {ConsoleTail(entry.Vm)}";
        }
        else
        {
            reason = entry.Agent.Failure is { } failure ? "guest protocol error: " + failure.Message : "the guest agent closed its connection";
        }

        if (!entry.TryBeginTermination(out _))
        {
            return;
        }

        _logger.LogWarning("sandbox {Id} failed: {Reason}", entry.Id, reason);
        foreach (var runner in entry.Executions.Values)
        {
            runner.MarkAborted("the sandbox failed while the command was running: " + reason);
        }

        await ReleaseAsync(entry, SandboxStatus.Failed, reason, deleteLogs: entry.Record.AutoRemove);
    }

    /// <summary>Stops what the sandbox runs, deletes its files (its output too when asked), records the final status, then announces the release.</summary>
    private async Task ReleaseAsync(SandboxEntry entry, SandboxStatus status, string message, bool deleteLogs)
    {
        await entry.Agent!.DisposeAsync();
        await entry.Vm!.DisposeAsync();
        if (_networks is not null)
        {
            await _networks.DetachAsync(entry.Id);
        }

        await Task.WhenAll(entry.Executions.Values.Select(r => r.Finished)).WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(_ => { }, TaskScheduler.Default);
        TryDeleteDirectory(entry.Record.WorkDir);
        if (deleteLogs)
        {
            _logs.DeleteSandbox(entry.Id);
        }

        SetStatus(entry, status, message);
        Forget(entry);
    }

    private void SetStatus(SandboxEntry entry, SandboxStatus status, string message)
    {
        entry.Record = entry.Record with { Status = status, StatusMessage = message, UpdatedAt = DateTimeOffset.UtcNow };
        _store.UpsertSandbox(entry.Record);
        Announce(entry.Record);
    }

    /// <summary>Records a status change as an event; a final status also ends the sandbox's followers.</summary>
    private void Announce(SandboxRecord record)
    {
        if (_events is null)
        {
            return;
        }

        _events.Add(new SandboxEventRecord
        {
            SandboxId = record.Id,
            Kind = Events.SandboxEventKind.Status,
            OccurredAt = record.UpdatedAt,
            Status = record.Status.ToString(),
            Message = record.StatusMessage,
        });
        if (record.IsTerminal)
        {
            _events.Complete(record.Id);
        }
    }

    /// <summary>
    /// What a guest that did not get as far as answering was doing: its vCPUs seen from outside (halted or running,
    /// kernel or user space) when the VMM can say, and its console's tail, which says how far it got.
    /// </summary>
    private static async Task<string> StuckGuestAsync(IVm vm, CancellationToken cancellationToken)
    {
        var cpus = await vm.DescribeCpusAsync(cancellationToken);
        return (cpus is null ? "" : $"vCPUs: {cpus}; ") + $"console: {ConsoleTail(vm)}";
    }

    /// <summary>The end of the guest console, escaped: it is guest-written text going into status messages and logs.</summary>
    private static string ConsoleTail(IVm vm)
    {
        try
        {
            var text = File.Exists(vm.ConsoleLogPath) ? File.ReadAllText(vm.ConsoleLogPath) : "";
            text = text.Length > 600 ? text[^600..] : text;
            text = text.ReplaceLineEndings(" | ").Trim();
            return text.Length == 0 ? "(empty)" : UntrustedText.Escape(text, 800);
        }
        catch (IOException)
        {
            return "(unreadable)";
        }
    }

    private void TryDeleteDirectory(string dir)
    {
        try
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _logger.LogWarning("could not delete {Dir}: {Reason}", dir, ex.Message);
        }
    }

    private sealed class NoHold : IDisposable
    {
        public static readonly NoHold Instance = new();

        public void Dispose()
        {
        }
    }
}
