using System.Collections.Concurrent;
using Cleanroom.Images.Archive;
using Cleanroom.Images.Layers;
using Cleanroom.Images.Quota;
using Cleanroom.Images.Registry;
using Cleanroom.Images.Rootfs;
using Cleanroom.Images.Store;
using Cleanroom.Oci;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cleanroom.Images;

/// <summary>
/// The image store's front door: pull (resolve, download concurrently, apply in order, pack ext4), import, list,
/// remove, lease. Pulls of one digest are shared; every failure path deletes what it wrote before the error surfaces.
/// The store stays under <see cref="ImageManagerOptions.MaxStoreBytes"/> by evicting unleased images, least recently
/// used first.
/// </summary>
public sealed class ImageManager : IDisposable
{
    private readonly ImageManagerOptions _options;
    private readonly RegistryClient _registry;
    private readonly ImageStore _store;
    private readonly RootfsMaterializer _materializer;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, PullOperation> _inflight = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, List<string>> _pendingRefs = new(StringComparer.Ordinal);
    private readonly ImageLeases _leases = new();
    private readonly UseClock _useClock = new(TimeProvider.System);
    private readonly SemaphoreSlim _downloadSlots;
    private readonly CancellationTokenSource _lifetime = new();
    private readonly Lock _gate = new();
    private int _disposed;

    public ImageManager(ImageManagerOptions options, ILogger<ImageManager>? logger = null, RegistryClient? registry = null)
    {
        _options = options;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        // Owner-only: the store holds whole file systems (and whatever secrets images carry).
        Directory.CreateDirectory(options.Root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Directory.CreateDirectory(options.RootfsDirectory);
        Directory.CreateDirectory(options.DownloadsDirectory);
        // Staging trees of a previous run that died mid-pull are garbage by definition.
        RootfsMaterializer.DeleteTree(options.StagingDirectory);
        DeleteStaleTemporaries(options.RootfsDirectory);
        _store = new ImageStore(options.DatabasePath);
        DeleteUnrecordedRootfs();
        _registry = registry ?? new RegistryClient(options.Registry, _logger);
        _materializer = new RootfsMaterializer(options);
        _downloadSlots = new SemaphoreSlim(Math.Max(1, options.MaxConcurrentDownloads));
    }

    public ImageManagerOptions Options => _options;

    /// <summary>The stored image for a pinned reference (or a ref pulled before), without touching the network.</summary>
    public ImageRecord? FindCached(ImageReference image) =>
        _store.FindByRef(image.Reference) ?? (image.Digest is { } d ? _store.Find(Digest.Parse(d)) : null);

    /// <summary>The stored image with this digest, when usable.</summary>
    public ImageRecord? Find(Digest digest) => _store.Find(digest);

    /// <summary>
    /// Holds the stored image <paramref name="digest"/> until the lease is disposed: <c>image rm</c>, prune and
    /// eviction leave it alone meanwhile. Throws <see cref="ImageNotFoundException"/> when it is not stored.
    /// </summary>
    public ImageLease AcquireLease(Digest digest)
    {
        lock (_gate)
        {
            return _store.Find(digest) is null
                ? throw new ImageNotFoundException($"image {digest} is not in the store")
                : _leases.Acquire(digest);
        }
    }

    /// <summary>Open leases on <paramref name="digest"/>.</summary>
    public int LeaseCount(Digest digest) => _leases.Count(digest);

    /// <summary>
    /// <see cref="EnsureAsync"/>, with a lease on the image taken before anything can evict it: what a sandbox about to
    /// boot from the image wants. The caller disposes the lease when the sandbox no longer needs the file.
    /// </summary>
    public async Task<(ImageRecord Image, ImageLease Lease)> EnsureLeasedAsync(ImageReference image, CancellationToken cancellationToken)
    {
        // Between a pull finishing and the lease, another pull may evict the image (it is the most recently used, so
        // only when every other image is in use): then it is fetched again.
        for (var attempt = 1; ; attempt++)
        {
            var record = await EnsureAsync(image, cancellationToken);
            lock (_gate)
            {
                if (_store.Find(record.Digest) is not null)
                {
                    return (record, _leases.Acquire(record.Digest));
                }
            }

            if (attempt == 3)
            {
                throw new ImageStoreFullException($"{image} was evicted from the image store as soon as it was stored, three times: the store is too small for the images in use");
            }
        }
    }

    /// <summary>
    /// The image for <paramref name="image"/>: the stored one when the reference is in the store (a pinned digest,
    /// or a tag as last pulled or imported: Docker's default "missing" pull policy), else pulled. Moving a tag to
    /// what the registry names now is an explicit <c>image pull</c>.
    /// </summary>
    public async Task<ImageRecord> EnsureAsync(ImageReference image, CancellationToken cancellationToken)
    {
        if (FindCached(image) is { } cached)
        {
            return Touch(cached);
        }

        var pull = await BeginPullAsync(image, cancellationToken);
        return Touch(await pull.Completion.WaitAsync(cancellationToken));
    }

    /// <summary>
    /// Resolves <paramref name="image"/> at its registry and starts (or joins) the download and build of its
    /// platform manifest. Returns at once with an operation to follow; an image already stored completes at once.
    /// </summary>
    public async Task<PullOperation> BeginPullAsync(ImageReference image, CancellationToken cancellationToken)
    {
        var top = await _registry.GetManifestAsync(image, image.ManifestReference, cancellationToken);
        var manifest = top;
        if (top.Index is not null)
        {
            var entry = top.SelectPlatform(_options.Platform);
            DownloadBudget.CheckIndexEntry(image, entry);
            manifest = await _registry.GetManifestAsync(image, entry.Digest, cancellationToken);
            if (manifest.Manifest is null)
            {
                throw new FormatException($"{image}: the index entry for {_options.Platform} is not an image manifest");
            }
        }

        var refs = new List<string> { image.Reference, image.Repository + "@" + top.Digest };
        var layers = manifest.Manifest!.Layers!;
        lock (_gate)
        {
            if (_store.Find(manifest.Digest) is { } stored)
            {
                foreach (var reference in refs)
                {
                    _store.AddRef(reference, stored.Digest);
                }

                var done = new PullOperation(stored.Digest, layers, cached: true) { Completion = Task.FromResult(_store.Find(stored.Digest) ?? stored) };
                return done;
            }

            // Before the first blob request: what the descriptors declare must fit the limits, and the image must be
            // able to fit in the store. It will take at least what its compressed layers would unpack to; the real
            // size is checked again (and room made) once it is built.
            var declared = DownloadBudget.CheckManifest(image, manifest.Manifest, _options.Downloads, _options.Limits.MaxUnpackedBytes);
            // (Clamped so that an absurd configured limit cannot overflow the sizing arithmetic.)
            MakeRoomLocked(image.ToString(), RootfsSizing.ForContent(Math.Min(declared, 1L << 52), 0), evict: false);

            if (_inflight.TryGetValue(manifest.Digest.ToString(), out var running))
            {
                _pendingRefs[manifest.Digest.ToString()].AddRange(refs);
                return running;
            }

            var pull = new PullOperation(manifest.Digest, layers, cached: false);
            _inflight[manifest.Digest.ToString()] = pull;
            _pendingRefs[manifest.Digest.ToString()] = refs;
            pull.Completion = Task.Run(() => RunPullAsync(image, manifest, pull), CancellationToken.None);
            return pull;
        }
    }

    /// <summary>The digest <paramref name="image"/> currently names at its registry (index digest for multi-platform images).</summary>
    public Task<Digest> ResolveAsync(ImageReference image, CancellationToken cancellationToken) =>
        _registry.ResolveDigestAsync(image, cancellationToken);

    /// <summary>
    /// Imports a <c>docker save</c> tarball or an OCI image layout tarball (optionally gzipped) under
    /// <paramref name="name"/>. Every blob is verified against its digest before use.
    /// </summary>
    public async Task<ImageRecord> ImportAsync(ImageReference name, string archivePath, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(_options.StagingDirectory);
        var unpackDir = Path.Combine(_options.StagingDirectory, "import-" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            var archive = await Task.Run(() => ImageArchive.Open(archivePath, unpackDir, _options.Platform, _options.MaxImportBytes, cancellationToken), cancellationToken);

            // A pinned name is a claim about content: it must be this content, or an import could stand in for a
            // registry image that policies pin.
            if (name.Digest is { } claimed && claimed != archive.Digest.ToString())
            {
                throw new ImageArchiveException($"the archive's image is {archive.Digest}, not {claimed}: import it under a name without a digest");
            }

            if (new FileInfo(archive.ConfigPath).Length > ImageConfigDocument.MaxBytes)
            {
                throw new ImageArchiveException($"the image config is larger than {ImageConfigDocument.MaxBytes} bytes");
            }

            var config = ImageConfigDocument.Parse(await File.ReadAllBytesAsync(archive.ConfigPath, cancellationToken));
            CheckPlatform(name, config);
            var refs = new[] { name.Reference, name.Repository + "@" + archive.Digest };
            lock (_gate)
            {
                if (_store.Find(archive.Digest) is { } existing)
                {
                    _store.Save(existing, refs);
                    return Touch(existing);
                }
            }

            var sources = archive.Layers.Select(l => new LayerSource(l.Name, l.Compression, Task.FromResult(l.Path))).ToList();
            var rootfs = await _materializer.BuildAsync(archive.Digest, sources, null, cancellationToken);
            var record = NewRecord(archive.Digest, rootfs, config, ImageSources.Import);
            lock (_gate)
            {
                try
                {
                    MakeRoomLocked(name.ToString(), rootfs.FilesystemBytes, evict: true);
                    _store.Save(record, refs);
                }
                catch
                {
                    File.Delete(rootfs.Path);
                    throw;
                }
            }

            return _store.Find(archive.Digest) ?? record;
        }
        finally
        {
            RootfsMaterializer.DeleteTree(unpackDir);
        }
    }

    /// <summary>Every stored image, most recently used first.</summary>
    public IReadOnlyList<ImageRecord> List() => _store.List();

    /// <summary>
    /// Removes the image <paramref name="selector"/> names (<c>repo@sha256:…</c>, <c>sha256:…</c>, its hex or a unique
    /// prefix of 12+ hex digits, or an exact ref). <paramref name="inUse"/> says which sandbox still boots from it.
    /// </summary>
    public ImageRecord Remove(string selector, Func<Digest, string?> inUse)
    {
        lock (_gate)
        {
            var image = Select(selector) ?? throw new ImageNotFoundException($"no stored image matches '{selector}' (see `cleanroom image ls`)");
            if (inUse(image.Digest) is { } user)
            {
                throw new ImageInUseException($"image {image.Digest} is in use by sandbox {user}; remove the sandbox first");
            }

            if (_leases.Count(image.Digest) is > 0 and var leases)
            {
                throw new ImageInUseException($"image {image.Digest} is in use ({leases} lease{(leases == 1 ? "" : "s")} held on it)");
            }

            if (_inflight.ContainsKey(image.Digest.ToString()))
            {
                throw new ImageInUseException($"image {image.Digest} is being pulled right now; remove it when the pull is done");
            }

            DeleteLocked(image);
            return image;
        }
    }

    /// <summary>
    /// Removes every stored image that no lease holds and <paramref name="inUse"/> does not claim (or, when
    /// <paramref name="dryRun"/>, only says which it would remove), least recently used first.
    /// </summary>
    public PruneResult Prune(Func<Digest, string?> inUse, bool dryRun)
    {
        lock (_gate)
        {
            var unused = _store.List()
                .Where(i => _leases.Count(i.Digest) == 0 && inUse(i.Digest) is null)
                .OrderBy(i => i.LastUsedAt)
                .ToList();
            if (!dryRun)
            {
                foreach (var image in unused)
                {
                    DeleteLocked(image);
                }

                _logger.LogInformation("pruned {Count} unused images, {Bytes} bytes", unused.Count, unused.Sum(i => i.FilesystemBytes));
            }

            return new PruneResult(unused, unused.Sum(i => i.FilesystemBytes), dryRun);
        }
    }

    /// <summary>Cancels running pulls, waits for their cleanup, closes the store. Safe to call more than once.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _lifetime.Cancel();

        // Let cancelled pulls run their cleanup before the store and semaphore go away under them.
        var running = _inflight.Values.Select(p => p.Completion).ToArray();
        try
        {
            Task.WaitAll(running, TimeSpan.FromSeconds(30));
        }
        catch (AggregateException)
        {
            // Their failures were logged where they happened; shutting down is all that is left.
        }

        _registry.Dispose();
        _store.Dispose();
        _downloadSlots.Dispose();
        _lifetime.Dispose();
    }

    private ImageRecord? Select(string selector)
    {
        var text = selector.Trim();
        var all = _store.List();
        var hex = text.StartsWith("sha256:", StringComparison.OrdinalIgnoreCase) ? text[7..].ToLowerInvariant() : text.ToLowerInvariant();
        if (hex.Length >= 12 && hex.All(char.IsAsciiHexDigit))
        {
            var matches = all.Where(i => i.Digest.Hex.StartsWith(hex, StringComparison.Ordinal)).ToList();
            if (matches.Count > 1)
            {
                throw new ImageNotFoundException($"'{selector}' matches {matches.Count} images; give more digits");
            }

            if (matches.Count == 1)
            {
                return matches[0];
            }
        }

        if (ImageReference.Parse(text, out _) is { } reference)
        {
            return all.FirstOrDefault(i => i.Refs.Contains(reference.Reference, StringComparer.Ordinal))
                ?? (reference.Digest is { } d ? all.FirstOrDefault(i => i.Digest.ToString() == d) : null);
        }

        return null;
    }

    private async Task<ImageRecord> RunPullAsync(ImageReference image, ManifestDocument manifest, PullOperation pull)
    {
        var key = manifest.Digest.ToString();
        using var pullCancel = CancellationTokenSource.CreateLinkedTokenSource(_lifetime.Token);
        var ct = pullCancel.Token;
        var layers = manifest.Manifest!.Layers!;
        var downloads = new Dictionary<string, Task<string>>(StringComparer.Ordinal);

        // One directory per image: single-flight makes it private to this pull, and a retry of the same image finds
        // its resumable .partial files there. (Two images sharing a layer each fetch it; correctness over bytes.)
        var downloadDir = Path.Combine(_options.DownloadsDirectory, manifest.Digest.Hex);
        Directory.CreateDirectory(downloadDir);
        MaterializedRootfs? rootfs = null;
        try
        {
            var configBytes = await _registry.GetBlobBytesAsync(image, manifest.Manifest.Config!, Math.Min(_options.Downloads.MaxConfigBytes, ImageConfigDocument.MaxBytes), ct);
            var config = ImageConfigDocument.Parse(configBytes);
            CheckPlatform(image, config);
            var sources = new List<LayerSource>(layers.Count);
            for (var i = 0; i < layers.Count; i++)
            {
                var layer = layers[i];
                var index = i;
                if (!downloads.TryGetValue(layer.Digest, out var download))
                {
                    download = DownloadLayerAsync(image, layer, Path.Combine(downloadDir, layer.ParsedDigest.Hex), bytes => pull.ReportDownloaded(index, bytes), ct);

                    // A later layer failing must stop the pull now, not after every layer before it was applied.
                    _ = download.ContinueWith(_ => pullCancel.Cancel(), CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
                    downloads[layer.Digest] = download;
                }

                sources.Add(new LayerSource($"{index + 1}/{layers.Count} ({layer.Digest[..19]})", MediaTypes.LayerCompressionOf(layer.MediaType)!.Value, download));
            }

            rootfs = await _materializer.BuildAsync(manifest.Digest, sources, pull.ReportApplied, ct);
            RootfsMaterializer.DeleteTree(downloadDir);
            var record = NewRecord(manifest.Digest, rootfs, config, ImageSources.Registry);
            lock (_gate)
            {
                MakeRoomLocked(image.ToString(), rootfs.FilesystemBytes, evict: true);
                _store.Save(record, _pendingRefs[key]);
                _inflight.TryRemove(key, out _);
                _pendingRefs.TryRemove(key, out _);
            }

            pull.ReportDone();
            _logger.LogInformation("pulled {Ref} as {Digest}: {Bytes} bytes of content, ext4 {Fs} bytes", image, manifest.Digest, rootfs.ContentBytes, rootfs.FilesystemBytes);
            return _store.Find(manifest.Digest) ?? record;
        }
        catch (Exception ex)
        {
            // Stop the other downloads and wait for them, so no writer is left behind the cleanup below.
            await pullCancel.CancelAsync();
            await Task.WhenAll(downloads.Values.Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default)));
            var failure = downloads.Values.Select(t => t.Exception?.InnerException).FirstOrDefault(e => e is not null and not OperationCanceledException);
            var reported = ex is OperationCanceledException && failure is not null && !_lifetime.IsCancellationRequested ? failure : ex;

            // A network that went away leaves resumable .partial files for the next attempt; anything else (a
            // hostile or broken image) leaves nothing. Only then may another pull of this image start.
            CleanUpFailedPull(downloadDir, keepPartials: reported is RegistryException { Kind: RegistryErrorKind.Unavailable }, rootfs);
            lock (_gate)
            {
                _inflight.TryRemove(key, out _);
                _pendingRefs.TryRemove(key, out _);
            }

            _logger.LogWarning("pull of {Ref} failed: {Reason}", image, reported.Message);
            if (!ReferenceEquals(reported, ex))
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(reported);
            }

            throw;
        }
    }

    /// <summary>
    /// Makes room for <paramref name="needed"/> more bytes under the quota, evicting unleased images least recently
    /// used first (only when <paramref name="evict"/>; otherwise it only checks that it could). Call under the gate.
    /// </summary>
    private void MakeRoomLocked(string what, long needed, bool evict)
    {
        var stored = _store.List();
        var plan = EvictionPlan.Choose(stored, needed, _options.MaxStoreBytes, i => _leases.Count(i.Digest) == 0);
        if (plan is null)
        {
            var used = stored.Sum(i => i.FilesystemBytes);
            var held = stored.Where(i => _leases.Count(i.Digest) > 0).ToList();
            throw new ImageStoreFullException(
                $"{what} needs {needed} bytes in the image store, whose limit (MaxStoreBytes) is {_options.MaxStoreBytes}; " +
                $"it holds {used} bytes, {held.Sum(i => i.FilesystemBytes)} of them in {held.Count} image(s) in use, which cannot be evicted");
        }

        if (!evict)
        {
            return;
        }

        foreach (var victim in plan)
        {
            _logger.LogInformation("evicting image {Digest} ({Refs}, last used {LastUsed:O}, {Bytes} bytes) to make room for {What}",
                victim.Digest, string.Join(", ", victim.Refs), victim.LastUsedAt, victim.FilesystemBytes, what);
            DeleteLocked(victim);
        }
    }

    /// <summary>Row first, then file: a file without a row is cleaned up at start, a row without a file would lie.</summary>
    private void DeleteLocked(ImageRecord image)
    {
        _store.Delete(image.Digest);
        File.Delete(image.RootfsPath);
    }

    private static void CleanUpFailedPull(string downloadDir, bool keepPartials, MaterializedRootfs? rootfs)
    {
        if (rootfs is not null)
        {
            File.Delete(rootfs.Path); // built, but its row could not be written: without a row it is garbage
        }

        if (!keepPartials)
        {
            RootfsMaterializer.DeleteTree(downloadDir);
            return;
        }

        foreach (var file in Directory.EnumerateFiles(downloadDir).Where(f => !f.EndsWith(".partial", StringComparison.Ordinal)))
        {
            File.Delete(file);
        }
    }

    private async Task<string> DownloadLayerAsync(ImageReference image, Descriptor layer, string path, Action<long> progress, CancellationToken ct)
    {
        await _downloadSlots.WaitAsync(ct);
        try
        {
            await _registry.DownloadBlobAsync(image, layer, path, new InlineProgress(progress), ct);
            return path;
        }
        finally
        {
            _downloadSlots.Release();
        }
    }

    private void CheckPlatform(ImageReference image, ImageConfigFile config)
    {
        var os = string.IsNullOrEmpty(config.Os) ? "linux" : config.Os;
        var platform = new Platform(os, string.IsNullOrEmpty(config.Architecture) ? _options.Platform.Architecture : config.Architecture, config.Variant);
        if (!_options.Platform.Matches(platform))
        {
            throw new ImagePlatformException($"{image} is a {platform} image; this host runs {_options.Platform} guests");
        }
    }

    private ImageRecord NewRecord(Digest digest, MaterializedRootfs rootfs, ImageConfigFile config, string source)
    {
        var now = _useClock.Next();
        var platform = new Platform(config.Os ?? "linux", config.Architecture ?? "", config.Variant);
        return new ImageRecord
        {
            Digest = digest,
            RootfsPath = rootfs.Path,
            ContentBytes = rootfs.ContentBytes,
            FilesystemBytes = rootfs.FilesystemBytes,
            CreatedAt = now,
            LastUsedAt = now,
            Source = source,
            Platform = platform.ToString(),
            Defaults = config.Config ?? new RunDefaults(),
        };
    }

    private ImageRecord Touch(ImageRecord image)
    {
        var now = _useClock.Next();
        _store.Touch(image.Digest, now);
        return image with { LastUsedAt = now };
    }

    /// <summary>A rootfs without a row is the remains of a build whose save never happened (crash, full disk).</summary>
    private void DeleteUnrecordedRootfs()
    {
        var recorded = _store.List().Select(i => i.RootfsPath).ToHashSet(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(_options.RootfsDirectory, "*.ext4").Where(f => !recorded.Contains(f)))
        {
            _logger.LogInformation("deleting {File}: no image record names it", file);
            File.Delete(file);
        }
    }

    private static void DeleteStaleTemporaries(string directory)
    {
        foreach (var temp in Directory.EnumerateFiles(directory, "*.tmp-*"))
        {
            File.Delete(temp);
        }
    }

    /// <summary>Calls back on the reporting thread (Progress&lt;T&gt; would post to a sync context we do not have).</summary>
    private sealed class InlineProgress(Action<long> report) : IProgress<long>
    {
        public void Report(long value) => report(value);
    }
}
