using System.Collections.Concurrent;
using Cleanroom.HostProcesses;
using Cleanroom.Images.Rootfs;
using Cleanroom.Workspaces.Build;
using Cleanroom.Workspaces.Git;
using Cleanroom.Workspaces.Repositories;
using Cleanroom.Workspaces.Submodules;

namespace Cleanroom.Workspaces;

/// <summary>
/// Read-only ext4 images of commits, one per commit, built on first use and reused after: the second run on a commit
/// costs a file lookup however big the repository is. Layout of <see cref="WorkspaceStoreOptions.StoreDirectory"/>:
/// <c>&lt;key&gt;.ext4</c> and <c>&lt;key&gt;.json</c> per image, <c>locks/</c>, and <c>staging/</c> while building.
/// A key is <c>v&lt;format&gt;-&lt;commit&gt;</c>, with <c>-sub</c> when the image holds the submodules and
/// <c>-t&lt;hash&gt;</c> naming the set of tags pointing at the commit (which the image's <c>.git</c> holds).
/// </summary>
public sealed class WorkspaceImageStore
{
    /// <summary>
    /// Part of every key: bump it when the image's layout changes (the .git shape, the config written into it) so old
    /// images are never attached to a guest that expects the new one.
    /// </summary>
    public const int FormatVersion = 2;

    private const string ImageSuffix = ".ext4";
    private const string TempSuffix = ".ext4.tmp";

    /// <summary>Entries beyond the tree: the .git directory's own files and directories.</summary>
    private const long DotGitEntries = 64;

    /// <summary>Index entries are about 100 bytes (62 fixed plus the path); 256 leaves room for long paths.</summary>
    private const long IndexBytesPerEntry = 256;

    private static readonly TimeSpan CleanupTimeout = TimeSpan.FromMinutes(10);

    private readonly WorkspaceStoreOptions _options;
    private readonly RepositoryStore? _repositories;
    private readonly KeyLocks _locks;
    private readonly string _staging;

    /// <summary>
    /// Images renamed into place whose data is still being flushed, with the metadata that is written once it is:
    /// in use already, but not yet trusted after a crash (an image without metadata is a leftover).
    /// </summary>
    private readonly ConcurrentDictionary<string, (WorkspaceMetadata Metadata, Task Settled)> _settling = new(StringComparer.Ordinal);

    /// <summary>A store in <see cref="WorkspaceStoreOptions.StoreDirectory"/>.</summary>
    /// <param name="options">Where images live and the budgets of a tree.</param>
    /// <param name="repositories">
    /// Where submodules that are not on the host are fetched (with the host's credentials, under the store's locks);
    /// null to check out only submodules the repository itself has.
    /// </param>
    public WorkspaceImageStore(WorkspaceStoreOptions options, RepositoryStore? repositories = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _repositories = repositories;
        Directory.CreateDirectory(options.StoreDirectory);
        _locks = new KeyLocks(Path.Combine(options.StoreDirectory, "locks"));
        _staging = Path.Combine(options.StoreDirectory, "staging");
    }

    /// <summary>
    /// The image of the commit <paramref name="commitish"/> names in <paramref name="repositoryPath"/>, built if the
    /// store does not have it. Uncommitted changes are never in it. Throws <see cref="WorkspaceException"/>.
    /// </summary>
    public Task<WorkspaceImage> EnsureAsync(string repositoryPath, string commitish, CancellationToken ct) =>
        EnsureAsync(repositoryPath, commitish, WorkspaceCheckoutOptions.Default, ct);

    /// <summary>
    /// The image of the commit <paramref name="commitish"/> names in <paramref name="repositoryPath"/>, with what
    /// <paramref name="checkout"/> adds (submodules), built if the store does not have it. Throws
    /// <see cref="WorkspaceException"/>.
    /// </summary>
    public async Task<WorkspaceImage> EnsureAsync(string repositoryPath, string commitish, WorkspaceCheckoutOptions checkout, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(repositoryPath);
        ArgumentNullException.ThrowIfNull(commitish);
        ArgumentNullException.ThrowIfNull(checkout);

        // A full object id needs one short git run when the image exists (the tags pointing at it, which the key
        // names): the warm path is that, a stat and a touch. Without the repository it finds no tags.
        var repository = Path.GetFullPath(repositoryPath);
        IReadOnlyList<CommitTag>? tags = null;
        if (CommitResolver.IsObjectId(commitish))
        {
            tags = await CommitTags.ListAsync(repository, commitish, ct);
            if (TryHit(KeyOf(commitish, checkout, tags), commitish) is { } early)
            {
                return early;
            }
        }

        var commit = await CommitResolver.ResolveAsync(repository, commitish, ct);
        if (tags is null || commit != commitish)
        {
            tags = await CommitTags.ListAsync(repository, commit, ct);
        }

        var key = KeyOf(commit, checkout, tags);
        if (TryHit(key, commit) is { } hit)
        {
            return hit;
        }

        WorkspaceImage image;
        var submodules = new SubmoduleResolver(_options, _repositories, checkout.SubmoduleFetchAllowed);
        IDisposable? held = await _locks.AcquireAsync(key, ct);
        try
        {
            // Another caller may have built it while this one waited.
            if (TryHit(key, commit) is { } built)
            {
                return built;
            }

            await RemoveLeftoversAsync(key);
            var plan = await PlanAsync(repository, commit, checkout, tags, submodules, ct);
            image = await BuildAsync(repository, commit, key, plan, held, ct);
            // The settling task owns the lock now and releases it when the image is durable.
            held = null;
        }
        finally
        {
            held?.Dispose();
        }

        if (submodules.Fetched && _repositories is not null)
        {
            // Submodules fetched into the repository store grew it; pruned once the build no longer reads the mirrors.
            await _repositories.PruneAsync(ct);
        }

        return image;
    }

    /// <summary>
    /// Deletes least-recently-used images (by the mtime every use refreshes) until the store's images use at most
    /// <paramref name="maxBytes"/> of disk. Images being built or pruned by someone else are skipped.
    /// </summary>
    public async Task<WorkspacePruneResult> PruneAsync(long maxBytes, CancellationToken ct)
    {
        var images = Directory.EnumerateFiles(_options.StoreDirectory, "*" + ImageSuffix)
            .Select(path => new FileInfo(path))
            .OrderBy(info => info.LastWriteTimeUtc)
            .ToList();
        var sizes = await DiskUsage.AllocatedBytesAsync(images.Select(i => i.FullName).ToList(), ct);
        var total = sizes.Values.Sum();
        var removed = new List<string>();
        long freed = 0;
        foreach (var image in images)
        {
            if (total <= maxBytes)
            {
                break;
            }

            var key = Path.GetFileNameWithoutExtension(image.Name);
            using var held = _locks.TryAcquire(key);
            if (held is null || !sizes.TryGetValue(image.FullName, out var size))
            {
                continue;
            }

            // A VM that has the image open keeps reading it: unlinking does not pull it from under the guest.
            File.Delete(image.FullName);
            File.Delete(MetadataPath(key));
            total -= size;
            freed += size;
            removed.Add(CommitOf(key));
        }

        return new WorkspacePruneResult(removed, freed, total);
    }

    /// <summary>The store's key for a commit: the format version, the full object id, and what else the image holds.</summary>
    internal static string KeyOf(string commit, WorkspaceCheckoutOptions checkout, IReadOnlyList<CommitTag> tags) =>
        $"v{FormatVersion}-{commit}" + (checkout.Submodules ? "-sub" : "") + (tags.Count > 0 ? "-t" + CommitTags.KeyPart(tags) : "");

    /// <summary>Where the image of <paramref name="key"/> is (or would be).</summary>
    private string ImagePathOf(string key) => Path.Combine(_options.StoreDirectory, key + ImageSuffix);

    /// <summary>The commit of a key: between the version and the variant suffixes.</summary>
    private static string CommitOf(string key) => key.Split('-')[1];

    private string MetadataPath(string key) => Path.Combine(_options.StoreDirectory, key + ".json");

    private WorkspaceImage? TryHit(string key, string commit)
    {
        var path = ImagePathOf(key);
        var settling = _settling.TryGetValue(key, out var pending) ? pending.Metadata : null;
        var metadata = settling ?? WorkspaceMetadata.TryRead(MetadataPath(key));
        if (metadata is null || !File.Exists(path))
        {
            // No metadata and not settling: a build that crashed before its image was durable; rebuilt under the lock.
            return null;
        }

        // The use time pruning goes by.
        var now = DateTime.UtcNow;
        File.SetLastWriteTimeUtc(path, now);
        File.SetLastAccessTimeUtc(path, now);
        return new WorkspaceImage(path, commit, Built: false, metadata.SkippedSubmodules);
    }

    /// <summary>
    /// Everything learned before anything is written: the tree counted (an oversized one is refused without filling
    /// the disk first) and, when asked for, the submodules found (fetched if need be) and counted into the same budgets.
    /// </summary>
    private async Task<BuildPlan> PlanAsync(
        string repository, string commit, WorkspaceCheckoutOptions checkout, IReadOnlyList<CommitTag> tags, SubmoduleResolver resolver, CancellationToken ct)
    {
        var tree = await TreeScanner.ScanAsync(
            repository, commit, _options.MaxTreeBytes, _options.MaxTreeEntries, _options.StepTimeout, ct, keepListing: true);
        if (!checkout.Submodules || tree.Gitlinks.Count == 0)
        {
            return new BuildPlan(tree, [], tree.Submodules, tags, tree.Listing);
        }

        var submodules = await resolver.ResolveAsync(repository, commit, tree, checkout.RepositoryUrl, ct);
        return new BuildPlan(resolver.Total, submodules, [], tags, tree.Listing);
    }

    private async Task<WorkspaceImage> BuildAsync(string repository, string commit, string key, BuildPlan plan, IDisposable held, CancellationToken ct)
    {
        var (tree, submodules, skipped, tags, _) = plan;
        var stage = Path.Combine(StagingRootFor(tree), key + "-" + Guid.NewGuid().ToString("N")[..8]);
        var temp = Path.Combine(_options.StoreDirectory, key + TempSuffix);
        var final = ImagePathOf(key);
        var metadataPath = MetadataPath(key);
        var done = false;
        Task? stageRemoval = null;
        try
        {
            Directory.CreateDirectory(stage);
            var entries = tree.Entries + (DotGitEntries * (1 + Count(submodules)));
            if (await CanWriteDirectlyAsync(repository, plan, ct))
            {
                await DirectImageBuild.WriteAsync(
                    new DirectImageBuild.Inputs(repository, commit, plan.Listing!, submodules, tags, tree.ContentBytes, entries), stage, temp, _options.StepTimeout, ct);
            }
            else
            {
                var packBytes = await StagedCheckout.CreateAsync(repository, commit, stage, _options.StepTimeout, ct, tags);
                packBytes += await SubmoduleStaging.StageAsync(stage, stage, Path.Combine(stage, ".git"), submodules, _options.StepTimeout, ct);
                var content = tree.ContentBytes + packBytes + (entries * IndexBytesPerEntry);
                var size = RootfsSizing.ForContent(content, entries);
                await Ext4Builder.BuildAsync(stage, temp, size, RootfsSizing.InodesFor(entries, size), ct);
            }

            // The staging tree is spent: delete it while the image is settled in the background.
            stageRemoval = RemoveTreeAsync(stage);
            ct.ThrowIfCancellationRequested();
            File.Move(temp, final, overwrite: false);
            done = true;
            var metadata = new WorkspaceMetadata(commit, skipped, tree.Entries, tree.ContentBytes);
            var settling = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _settling[key] = (metadata, settling.Task);
            _ = SettleAsync(key, final, metadata, held, settling, stageRemoval);
            return new WorkspaceImage(final, commit, Built: true, skipped);
        }
        catch (Exception ex) when (ex is HostCommandException or Cleanroom.Images.Ext4.Ext4ImageFullException)
        {
            throw new WorkspaceException(WorkspaceErrorKind.BuildFailed, $"Building the workspace image of {commit} failed: {ex.Message}", ex);
        }
        finally
        {
            if (!done)
            {
                File.Delete(temp);
                File.Delete(metadataPath);
                await (stageRemoval ?? RemoveTreeAsync(stage));
            }
        }
    }

    /// <summary>
    /// Whether the trees can be written straight into the image: every tree's listing was kept (not too big to hold)
    /// and no <c>.gitattributes</c> may make a checkout differ from the blobs. Otherwise git checks them out.
    /// </summary>
    private async Task<bool> CanWriteDirectlyAsync(string repository, BuildPlan plan, CancellationToken ct)
    {
        if (_options.CheckoutWithGit || plan.Listing is null || !All(plan.Submodules, s => s.Listing is not null))
        {
            return false;
        }

        if (await CheckoutFilters.MayConvertAsync(repository, plan.Listing, _options.StepTimeout, ct))
        {
            return false;
        }

        foreach (var submodule in Flatten(plan.Submodules))
        {
            if (await CheckoutFilters.MayConvertAsync(submodule.Source, submodule.Listing!, _options.StepTimeout, ct))
            {
                return false;
            }
        }

        return true;
    }

    private static bool All(IReadOnlyList<ResolvedSubmodule> submodules, Func<ResolvedSubmodule, bool> predicate) =>
        Flatten(submodules).All(predicate);

    private static IEnumerable<ResolvedSubmodule> Flatten(IReadOnlyList<ResolvedSubmodule> submodules) =>
        submodules.SelectMany(s => Flatten(s.Children).Prepend(s));

    /// <summary>Submodules at every depth.</summary>
    private static int Count(IReadOnlyList<ResolvedSubmodule> submodules) => submodules.Sum(s => 1 + Count(s.Children));

    /// <summary>
    /// Memory staging when configured and the tree (about twice its content once the packed objects are added) fits
    /// both the limit and the file system's free space with a margin; the store's own staging directory otherwise.
    /// </summary>
    private string StagingRootFor(TreeSummary tree)
    {
        var memory = _options.MemoryStagingDirectory;
        if (memory is null)
        {
            return _staging;
        }

        var estimate = (tree.ContentBytes * 2) + (tree.Entries * 4096);
        try
        {
            return estimate <= _options.MemoryStagingMaxBytes
                && Directory.Exists(memory)
                && new DriveInfo(memory).AvailableFreeSpace > estimate + (estimate / 4)
                ? memory
                : _staging;
        }
        catch (IOException)
        {
            return _staging;
        }
    }

    /// <summary>What a crashed build of <paramref name="key"/> left; safe because the caller holds the key's lock.</summary>
    private async Task RemoveLeftoversAsync(string key)
    {
        var image = Path.Combine(_options.StoreDirectory, key + ImageSuffix);
        if (File.Exists(image) && !File.Exists(MetadataPath(key)))
        {
            File.Delete(image);
        }

        foreach (var temp in Directory.EnumerateFiles(_options.StoreDirectory, key + TempSuffix + "*"))
        {
            File.Delete(temp);
        }

        foreach (var root in new[] { _staging, _options.MemoryStagingDirectory })
        {
            if (root is not null && Directory.Exists(root))
            {
                foreach (var stage in Directory.EnumerateDirectories(root, key + "-*"))
                {
                    await RemoveTreeAsync(stage);
                }
            }
        }
    }

    /// <summary>
    /// Waits until every image built so far is durable (its data flushed, its metadata written), or dropped because the
    /// flush failed. For shutdown and for tests; a build never waits for it.
    /// </summary>
    public Task SettledAsync() => Task.WhenAll(_settling.Values.Select(s => s.Settled));

    /// <summary>
    /// Makes a just-built image durable off the cold path: flushing a repository-sized image took about a second that
    /// the first execution would otherwise wait for, while the guest can read it from the page cache at once. The
    /// metadata is written only after the data is on disk, so after a crash an image without metadata is known to be
    /// possibly incomplete and is rebuilt. The key's lock is held until then, so another process on the store waits
    /// rather than mistaking the image for such a leftover, and pruning skips it. A failed flush drops the image: the
    /// next use builds it again.
    /// </summary>
    private async Task SettleAsync(string key, string image, WorkspaceMetadata metadata, IDisposable held, TaskCompletionSource settled, Task stageRemoval)
    {
        await Task.Yield();
        try
        {
            FlushToDisk(image);
            await metadata.WriteAsync(MetadataPath(key), CancellationToken.None);
            // The rename and the metadata are durable only once the directory is synced; a failed sync loses nothing.
            await HostCommand.TryRunAsync("sync", [_options.StoreDirectory], CleanupTimeout, CancellationToken.None);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or HostCommandException)
        {
            File.Delete(image);
            File.Delete(MetadataPath(key));
        }
        finally
        {
            // The spent staging tree (a pack as big as the tree) was being removed meanwhile; the key's lock is held
            // until it is gone. One that cannot be removed is the next build's leftover (RemoveLeftoversAsync).
            await stageRemoval.ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            _settling.TryRemove(key, out _);
            held.Dispose();
            settled.SetResult();
        }
    }

    /// <summary>
    /// <c>rm -rf</c> rather than Directory.Delete: .NET decodes file names as UTF-16 and cannot name (so cannot delete)
    /// a file whose name is not valid UTF-8, which a repository may well hold.
    /// </summary>
    private static async Task RemoveTreeAsync(string path)
    {
        if (Directory.Exists(path))
        {
            await HostCommand.RunAsync("rm", ["-rf", "--one-file-system", "--", path], CleanupTimeout, CancellationToken.None);
        }
    }

    private static void FlushToDisk(string path)
    {
        // Shared: readers (a guest's disk, a test) may have it open already; fsync needs no exclusivity.
        using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
        stream.Flush(flushToDisk: true);
    }

    /// <summary>
    /// What a build stages: the whole tree's counts, the submodules to lay out, those left empty, the tags, and the
    /// repository's own tree listing (null when it was too big to keep).
    /// </summary>
    private sealed record BuildPlan(
        TreeSummary Tree, IReadOnlyList<ResolvedSubmodule> Submodules, IReadOnlyList<string> Skipped, IReadOnlyList<CommitTag> Tags, IReadOnlyList<TreeEntry>? Listing);
}
