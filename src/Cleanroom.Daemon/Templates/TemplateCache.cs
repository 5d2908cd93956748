using System.Collections.Concurrent;
using System.Diagnostics;
using Cleanroom.Vm;
using Cleanroom.Vm.Templates;
using Microsoft.Extensions.Logging;

namespace Cleanroom.Daemon.Templates;

/// <summary>
/// The daemon's VM templates, one per <see cref="TemplateKey"/>. A create asks for its key: a ready template is
/// handed out; otherwise the create boots cold (with the reason) and, unless one is already being built or the last
/// build for the key failed recently, a build starts in the background. One build at a time, at most
/// <see cref="MaxTemplates"/> kept (the least recently used goes), all of them discarded with the daemon (their
/// memory lives in memfds owned by this process).
/// </summary>
internal sealed class TemplateCache : IAsyncDisposable
{
    public const int MaxTemplates = 8;

    /// <summary>A file written into a template's directory once creates use it.</summary>
    public const string ReadyMarker = "ready";

    /// <summary>How long a failed build keeps its key from building again.</summary>
    public static readonly TimeSpan RetryAfterFailure = TimeSpan.FromMinutes(10);

    private readonly IVmBackend _backend;
    private readonly string _templatesRoot;
    private readonly string _workRoot;
    private readonly Func<IVm, CancellationToken, Task> _untilServing;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<TemplateKey, Slot> _slots = new();
    private readonly SemaphoreSlim _oneBuild = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<Task, byte> _builds = new();
    private int _disposed;

    /// <param name="templatesRoot">Where template files live; emptied now (templates do not outlive their daemon).</param>
    /// <param name="workRoot">Where template VMs run (the sandboxes root, so a crashed daemon's leftovers are reaped with the sandboxes').</param>
    public TemplateCache(IVmBackend backend, string templatesRoot, string workRoot, Func<IVm, CancellationToken, Task> untilServing, ILogger logger)
    {
        _backend = backend;
        _templatesRoot = templatesRoot;
        _workRoot = workRoot;
        _untilServing = untilServing;
        _logger = logger;
        if (Directory.Exists(templatesRoot))
        {
            Directory.Delete(templatesRoot, recursive: true);
        }

        Directory.CreateDirectory(templatesRoot);
    }

    /// <summary>
    /// The template for <paramref name="key"/> with a lease that keeps it alive until the clone has started, or null
    /// with the reason the create boots cold. Starts a build when there is none for the key.
    /// </summary>
    public (VmTemplate? Template, IDisposable? Lease, string Reason) Lookup(TemplateKey key, Func<VmTemplateRequest> request)
    {
        var slot = _slots.GetOrAdd(key, _ => new Slot());
        lock (slot)
        {
            slot.LastUsed = Stopwatch.GetTimestamp();
            if (slot.Template is { } ready && ready.TryLease() is { } lease)
            {
                return (ready, lease, "");
            }

            if (slot.Building)
            {
                return (null, null, "no template yet: one is being built");
            }

            if (slot.FailedAt is { } failedAt && Stopwatch.GetElapsedTime(failedAt) < RetryAfterFailure)
            {
                return (null, null, "no template: " + slot.Failure);
            }

            if (_stopping.IsCancellationRequested)
            {
                return (null, null, "the daemon is stopping");
            }

            slot.Building = true;
        }

        var build = Task.Run(() => BuildAsync(key, slot, request()), CancellationToken.None);
        _builds.TryAdd(build, 0);
        _ = build.ContinueWith(t => _builds.TryRemove(t, out _), TaskScheduler.Default);
        return (null, null, "no template yet: building one now");
    }

    /// <summary>Whether a template for <paramref name="key"/> is ready now (no build is started).</summary>
    public bool HasTemplate(TemplateKey key)
    {
        if (!_slots.TryGetValue(key, out var slot))
        {
            return false;
        }

        lock (slot)
        {
            return slot.Template is not null;
        }
    }

    /// <summary>
    /// A template that failed a restore is dropped; its key builds a new one only after
    /// <see cref="RetryAfterFailure"/>, so a template that cannot be restored costs one failed attempt, not one per create.
    /// </summary>
    public void Discard(VmTemplate template, string reason)
    {
        foreach (var (key, slot) in _slots)
        {
            lock (slot)
            {
                if (ReferenceEquals(slot.Template, template))
                {
                    slot.Template = null;
                    slot.Failure = "the last warm start from it failed (" + reason + ")";
                    slot.FailedAt = Stopwatch.GetTimestamp();
                    _logger.LogWarning("Template {Key} discarded: {Reason}", key.Digest, reason);
                }
            }
        }

        template.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync();
        try
        {
            await Task.WhenAll(_builds.Keys);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Each build logs its own failure.
        }

        foreach (var slot in _slots.Values)
        {
            slot.Template?.Dispose();
        }

    }

    private async Task BuildAsync(TemplateKey key, Slot slot, VmTemplateRequest request)
    {
        VmTemplate? built = null;
        string? failure = null;
        try
        {
            await _oneBuild.WaitAsync(_stopping.Token);
            try
            {
                built = await _backend.BuildTemplateAsync(request, _untilServing, _stopping.Token);
            }
            finally
            {
                _oneBuild.Release();
            }

            _logger.LogInformation(
                "Template {Key} ready in {Ms} ms: {Resident} MiB of memory, {Disk} KiB on disk.",
                key.Digest, (long)built.BuildTime.TotalMilliseconds, built.ResidentBytes >> 20, built.DiskBytes >> 10);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            failure = "the daemon is stopping";
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Any failure, expected or not, must reach the slot below: a slot left "building" would keep its key cold.
            failure = "the template build failed: " + Escaping.UntrustedText.Escape(ex.Message, 300);
            _logger.LogWarning("Template {Key} could not be built: {Reason}", key.Digest, failure);
        }
        finally
        {
            lock (slot)
            {
                slot.Building = false;
                slot.Template = built;
                slot.Failure = failure;
                slot.FailedAt = failure is null ? null : Stopwatch.GetTimestamp();
            }
        }

        if (built is not null)
        {
            try
            {
                // For operators and tests: the template in this directory is handed out from now on.
                File.WriteAllText(Path.Combine(built.Directory, ReadyMarker), key.Digest + "\n");
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Discarded meanwhile (its directory went with it).
            }
        }

        EvictBeyondLimit();
    }

    private void EvictBeyondLimit()
    {
        var ready = _slots.Where(p => p.Value.Template is not null).OrderBy(p => p.Value.LastUsed).ToList();
        foreach (var (key, slot) in ready.Take(Math.Max(0, ready.Count - MaxTemplates)))
        {
            VmTemplate? evicted;
            lock (slot)
            {
                evicted = slot.Template;
                slot.Template = null;
            }

            evicted?.Dispose();
            _logger.LogInformation("Template {Key} evicted (more than {Max} templates).", key.Digest, MaxTemplates);
        }
    }

    /// <summary>Where a new template's files and its VM's work directory go.</summary>
    public (string Directory, string WorkDir, string Id) NewLocation(TemplateKey key)
    {
        var id = "tpl-" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4));
        return (Path.Combine(_templatesRoot, key.Digest + "-" + id), Path.Combine(_workRoot, id), id);
    }

    private sealed class Slot
    {
        public VmTemplate? Template { get; set; }

        public bool Building { get; set; }

        public string? Failure { get; set; }

        public long? FailedAt { get; set; }

        public long LastUsed { get; set; }
    }
}
