using System.Collections.Concurrent;
using System.Diagnostics;
using Cleanroom.Api.V1;
using Cleanroom.Daemon.Executions;
using Cleanroom.Daemon.Services;
using Cleanroom.Daemon.State;
using Cleanroom.Guest.Wire;
using Cleanroom.Guest.Wire.Host;
using Cleanroom.Guest.Wire.Messages;
using Cleanroom.Images;
using Cleanroom.Oci;
using Cleanroom.Policy;
using Cleanroom.Vm;
using Cleanroom.Vm.Assets;
using Cleanroom.Vm.Qemu;
using Microsoft.Extensions.Logging;

namespace Cleanroom.Daemon.Sandboxes;

/// <summary>
/// The sandbox lifecycle: create (VM + agent handshake, undone completely on failure), watch (a VM that dies or a
/// guest that breaks the protocol marks the sandbox FAILED), terminate, and recovery after a daemon restart.
/// </summary>
public sealed class SandboxManager
{
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(3);
    private readonly DaemonOptions _options;
    private readonly StateStore _store;
    private readonly IVmBackend _backend;
    private readonly Func<BootAssets> _assets;
    private readonly ImageManager _images;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, LiveSandbox> _live = new();

    /// <summary>Sandboxes still booting, by id, with the image digest they boot from (not yet in <see cref="_live"/>).</summary>
    private readonly ConcurrentDictionary<string, string> _booting = new();

    public SandboxManager(DaemonOptions options, StateStore store, IVmBackend backend, Func<BootAssets> assets, ImageManager images, ILogger<SandboxManager> logger)
    {
        _options = options;
        _store = store;
        _backend = backend;
        _assets = assets;
        _images = images;
        _logger = logger;
        Directory.CreateDirectory(SandboxesRoot);
        Directory.CreateDirectory(ExecutionsRoot);
    }

    public string BackendName => _backend.Name;

    private string SandboxesRoot => Path.Combine(_options.StateDir, "sandboxes");

    private string ExecutionsRoot => Path.Combine(_options.StateDir, "executions");

    /// <summary>
    /// Runs once at start-up: whatever a previous daemon left running is gone or orphaned. Kill stray VMs, delete
    /// their work directories, and record the sandboxes and executions as failed, saying why.
    /// </summary>
    public void Recover()
    {
        QemuLeftovers.KillStale(SandboxesRoot);
        foreach (var sandbox in _store.ListSandboxes().Where(s => !s.IsTerminal))
        {
            _logger.LogWarning("sandbox {Id} was {Status} when the daemon stopped; marking it failed", sandbox.Id, sandbox.Status);
            _store.UpsertSandbox(sandbox with
            {
                Status = SandboxStatus.Failed,
                StatusMessage = "the VM was lost: the daemon stopped without shutting this sandbox down",
                UpdatedAt = DateTimeOffset.UtcNow,
            });
        }

        foreach (var execution in _store.ListUnfinishedExecutions())
        {
            _store.UpsertExecution(execution with { Status = ExecutionStatus.Failed, ExitCode = 1, Error = "lost: the daemon stopped while the command ran", FinishedAt = DateTimeOffset.UtcNow });
        }

        foreach (var dir in Directory.EnumerateDirectories(SandboxesRoot))
        {
            TryDeleteDirectory(dir);
        }
    }

    public async Task<SandboxRecord> CreateAsync(SandboxRequest request, CancellationToken cancellationToken)
    {
        // The explicit image wins, then the policy's; neither means the built-in image.
        var requested = !string.IsNullOrWhiteSpace(request.ImageRef) ? request.ImageRef.Trim() : request.Policy?.Image.Reference;
        var imageRef = SandboxImage.ParseRequested(requested);
        var floors = request.Policy?.Resources ?? ResourceFloors.None;
        var started = Stopwatch.GetTimestamp();
        var id = Ids.New();
        var workDir = Path.Combine(SandboxesRoot, id);
        var record = new SandboxRecord
        {
            Id = id,
            Status = SandboxStatus.Provisioning,
            Backend = _backend.Name,
            ImageRef = imageRef?.Reference ?? BuiltinImage.Ref,
            PolicyHash = request.Policy?.Hash ?? "",
            Vcpus = Math.Max(request.Vcpus > 0 ? request.Vcpus : _options.DefaultVcpus, floors.Vcpus ?? 0),
            MemoryMiB = (int)Math.Max(request.MemoryMiB > 0 ? request.MemoryMiB : _options.DefaultMemoryMiB, (floors.MemoryBytes ?? 0) >> 20),
            WorkDir = workDir,
            CreatedAt = DateTimeOffset.UtcNow,
            UpdatedAt = DateTimeOffset.UtcNow,
        };
        _store.UpsertSandbox(record);

        IVm? vm = null;
        AgentClient? agent = null;
        try
        {
            var accel = await _backend.ResolveAccelAsync(cancellationToken);
            record = record with { Accelerator = accel.Mode.ToString().ToLowerInvariant() };
            Directory.CreateDirectory(workDir);
            string? rootImage = null;
            if (imageRef is not null)
            {
                var image = await _images.EnsureAsync(imageRef, cancellationToken);
                _booting[id] = image.Digest.ToString();
                record = record with { ImageDigest = image.Digest.ToString() };
                _store.UpsertSandbox(record);
                rootImage = await SandboxImage.RootDiskAsync(image, workDir, floors.DiskBytes, cancellationToken);
            }

            var spec = new VmSpec(id, workDir, _assets(), record.Vcpus, record.MemoryMiB) { RootImagePath = rootImage };
            vm = await _backend.StartAsync(spec, cancellationToken);
            agent = await ConnectAgentAsync(vm, cancellationToken);
            record = record with
            {
                Status = SandboxStatus.Ready,
                BootMs = (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds,
                UpdatedAt = DateTimeOffset.UtcNow,
            };
            var live = new LiveSandbox(record, vm, agent);
            _live[id] = live;
            _booting.TryRemove(id, out _);
            _store.UpsertSandbox(record);
            _ = Task.Run(() => WatchAsync(live), CancellationToken.None);
            _logger.LogInformation("sandbox {Id} ready in {Ms} ms ({Accel})", id, record.BootMs, record.Accelerator);
            return record;
        }
        catch (Exception ex)
        {
            var reason = ex is OperationCanceledException ? "the create was cancelled" : ex.Message;
            _logger.LogWarning("sandbox {Id} failed to start: {Reason}", id, reason);
            if (agent is not null)
            {
                await agent.DisposeAsync();
            }

            if (vm is not null)
            {
                await vm.DisposeAsync();
            }

            TryDeleteDirectory(workDir);
            _booting.TryRemove(id, out _);
            _store.UpsertSandbox(record with { Status = SandboxStatus.Failed, StatusMessage = "create failed: " + reason, UpdatedAt = DateTimeOffset.UtcNow });
            throw ex is DaemonException ? ex
                : ImageErrors.Translate(ex) is { } imageError ? imageError
                : new DaemonException(Grpc.Core.StatusCode.Unavailable, ReasonCode.RuntimeLaunchFailed, $"sandbox {id} failed to start: {reason}");
        }
    }

    public SandboxRecord Get(string id) =>
        _live.TryGetValue(id, out var live) ? live.Record : _store.GetSandbox(ValidId(id)) ?? throw DaemonException.SandboxNotFound(id);

    public IReadOnlyList<SandboxRecord> List(bool all) =>
        _store.ListSandboxes().Select(s => _live.TryGetValue(s.Id, out var live) ? live.Record : s).Where(s => all || !s.IsTerminal).ToList();

    public LiveSandbox GetReady(string id)
    {
        if (_live.TryGetValue(ValidId(id), out var live) && live.Record.Status == SandboxStatus.Ready)
        {
            return live;
        }

        var record = _store.GetSandbox(id) ?? throw DaemonException.SandboxNotFound(id);
        var why = record.StatusMessage.Length > 0 ? $" ({record.StatusMessage})" : "";
        throw DaemonException.NotReady($"sandbox {id} is not ready: it is {StatusName(record.Status)}{why}");
    }

    /// <summary>Stops the VM (agent shutdown first, then QEMU), deletes the work directory and records STOPPED.</summary>
    public async Task<SandboxRecord> TerminateAsync(string id, string reason)
    {
        if (!_live.TryGetValue(ValidId(id), out var live))
        {
            var record = _store.GetSandbox(id) ?? throw DaemonException.SandboxNotFound(id);
            TryDeleteDirectory(record.WorkDir);
            return record;
        }

        if (!live.TryBeginTermination())
        {
            await live.Vm.Exited;
            return Get(id);
        }

        SetStatus(live, SandboxStatus.Stopping, reason);
        foreach (var runner in live.Executions.Values)
        {
            runner.MarkAborted("the sandbox was terminated while the command was running");
        }

        try
        {
            using var timeout = new CancellationTokenSource(StopGrace);
            await live.Agent.ShutdownAsync(timeout.Token);
            await live.Vm.Exited.WaitAsync(timeout.Token);
        }
        catch (Exception ex) when (ex is WireProtocolException or OperationCanceledException or TimeoutException)
        {
            _logger.LogInformation("sandbox {Id}: guest did not power off by itself ({Reason}); stopping the VM", id, ex.Message);
        }

        await ReleaseAsync(live);
        SetStatus(live, SandboxStatus.Stopped, reason);
        return live.Record;
    }

    /// <summary>Terminates every running sandbox (daemon shutdown).</summary>
    public Task ShutdownAsync() =>
        Task.WhenAll(_live.Keys.Select(id => TerminateAsync(id, "stopped at daemon shutdown")));

    public async Task<ExecutionRunner> StartExecutionAsync(string sandboxId, ExecRequest request, bool attachStdin, CancellationToken cancellationToken)
    {
        var live = GetReady(sandboxId);
        var id = Ids.New();
        var record = new ExecutionRecord
        {
            Id = id,
            SandboxId = live.Record.Id,
            Status = ExecutionStatus.Queued,
            Command = request.Argv,
            Tty = request.Tty,
            CreatedAt = DateTimeOffset.UtcNow,
        };
        _store.UpsertExecution(record);
        var runner = new ExecutionRunner(record, OutputLog.Create(OutputLogPath(id)), _store, _logger);
        live.Executions[id] = runner;
        live.Record = live.Record with { LastExecutionId = id, UpdatedAt = DateTimeOffset.UtcNow };
        _store.UpsertSandbox(live.Record);
        _ = runner.Finished.ContinueWith(_ => live.Executions.TryRemove(id, out var _), TaskScheduler.Default);
        await runner.StartAsync(live.Agent, request, attachStdin, cancellationToken);
        return runner;
    }

    /// <summary>The id of a live sandbox booted from <paramref name="digest"/>, if any (such an image cannot be removed).</summary>
    public string? SandboxUsingImage(Digest digest) =>
        _booting.FirstOrDefault(b => b.Value == digest.ToString()).Key
        ?? _live.Values.FirstOrDefault(l => l.Record.ImageDigest == digest.ToString() && !l.IsTerminating)?.Record.Id;

    /// <summary>The run defaults (env, workdir, user, entrypoint) of the image a sandbox booted from; empty for the built-in image.</summary>
    public RunDefaults ImageDefaults(SandboxRecord sandbox) =>
        Digest.TryParse(sandbox.ImageDigest, out var digest) && _images.Find(digest) is { } image ? image.Defaults : new RunDefaults();

    /// <summary>The runner of a running execution, or null when it finished (then the store has it).</summary>
    public ExecutionRunner? FindRunner(string executionId) =>
        _live.Values.Select(l => l.Executions.GetValueOrDefault(executionId)).FirstOrDefault(r => r is not null);

    /// <summary>The id of the newest execution still running in a sandbox, if any.</summary>
    public string ActiveExecutionId(string sandboxId) =>
        _live.TryGetValue(sandboxId, out var live)
            ? live.Executions.Values.Select(r => r.Record).OrderByDescending(r => r.CreatedAt).FirstOrDefault()?.Id ?? ""
            : "";

    public string OutputLogPath(string executionId) => Path.Combine(ExecutionsRoot, ValidId(executionId) + ".log");

    private static string ValidId(string id) => Ids.IsValid(id) ? id : throw DaemonException.InvalidArgument($"'{id}' is not a valid id (26 lowercase ULID characters)");

    private static string StatusName(SandboxStatus status) => status.ToString().ToLowerInvariant();

    private async Task<AgentClient> ConnectAgentAsync(IVm vm, CancellationToken cancellationToken)
    {
        using var launch = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        launch.CancelAfter(_options.LaunchTimeout);
        var connect = Task.Run(
            async () =>
            {
                var stream = await vm.ConnectAgentAsync(launch.Token);
                try
                {
                    return await AgentClient.ConnectAsync(stream, WireLimits.Default, _options.LaunchTimeout, launch.Token);
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
            throw new VmException($"the guest agent did not answer within {_options.LaunchTimeout.TotalSeconds:0} s; console: {ConsoleTail(vm)}");
        }
    }

    /// <summary>Marks the sandbox failed when its VM dies or its guest breaks the protocol, unless we were stopping it.</summary>
    private async Task WatchAsync(LiveSandbox live)
    {
        var ended = await Task.WhenAny(live.Vm.Exited, live.Agent.Completion);
        if (live.IsTerminating)
        {
            return;
        }

        string reason;
        if (ended == live.Vm.Exited)
        {
            reason = $"the VM exited unexpectedly (code {await live.Vm.Exited}); console: {ConsoleTail(live.Vm)}";
        }
        else
        {
            reason = live.Agent.Failure is { } failure ? "guest protocol error: " + failure.Message : "the guest agent closed its connection";
        }

        if (!live.TryBeginTermination())
        {
            return;
        }

        _logger.LogWarning("sandbox {Id} failed: {Reason}", live.Record.Id, reason);
        foreach (var runner in live.Executions.Values)
        {
            runner.MarkAborted("the sandbox failed while the command was running: " + reason);
        }

        await ReleaseAsync(live);
        SetStatus(live, SandboxStatus.Failed, reason);
    }

    private async Task ReleaseAsync(LiveSandbox live)
    {
        await live.Agent.DisposeAsync();
        await live.Vm.DisposeAsync();
        await Task.WhenAll(live.Executions.Values.Select(r => r.Finished)).WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(_ => { }, TaskScheduler.Default);
        _live.TryRemove(live.Record.Id, out _);
        TryDeleteDirectory(live.Record.WorkDir);
    }

    private void SetStatus(LiveSandbox live, SandboxStatus status, string message)
    {
        live.Record = live.Record with { Status = status, StatusMessage = message, UpdatedAt = DateTimeOffset.UtcNow };
        _store.UpsertSandbox(live.Record);
    }

    private static string ConsoleTail(IVm vm)
    {
        try
        {
            var text = File.Exists(vm.ConsoleLogPath) ? File.ReadAllText(vm.ConsoleLogPath) : "";
            text = text.Length > 600 ? text[^600..] : text;
            return text.Length == 0 ? "(empty)" : text.ReplaceLineEndings(" | ").Trim();
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
}
