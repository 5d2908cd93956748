namespace Cleanroom.Workspaces.Tests;

/// <summary>Caching, concurrency, pruning and failures of the store, each on its own repository and store.</summary>
public sealed class StoreTests : IDisposable
{
    private readonly Scratch _scratch = new();
    private readonly List<WorkspaceImageStore> _stores = [];

    private string StoreDirectory => _scratch.Combine("store");

    [Fact]
    public async Task Second_ensure_is_a_cache_hit_that_builds_nothing()
    {
        var repository = await TestRepository.CreateAsync(_scratch.Combine("repo"), files: 20);
        var store = NewStore();
        var first = await store.EnsureAsync(repository.Path, "HEAD", CancellationToken.None);
        var inode = await InodeAsync(first.Path);

        var byName = await store.EnsureAsync(repository.Path, "main", CancellationToken.None);
        // Another store (another process) trusts an image once it is durable: its metadata is written by then.
        await store.SettledAsync();
        // A full id needs no rev-parse: the repository could be gone (its tags are then none, as here).
        var byId = await NewStore().EnsureAsync(_scratch.Combine("no-such-repo"), repository.Commit, CancellationToken.None);

        Assert.True(first.Built);
        Assert.False(byName.Built);
        Assert.False(byId.Built);
        Assert.Equal(first.Path, byName.Path);
        Assert.Equal(inode, await InodeAsync(byId.Path));
        await AssertOnlyImagesLeftAsync(1);
    }

    [Fact]
    public async Task Image_left_without_metadata_by_a_crash_is_rebuilt()
    {
        var repository = await TestRepository.CreateAsync(_scratch.Combine("repo"), files: 5);
        var first = await NewStore().EnsureAsync(repository.Path, "HEAD", CancellationToken.None);
        await Task.WhenAll(_stores.Select(s => s.SettledAsync()));
        // What a crash between the rename and the flush leaves: the image, but no metadata vouching for it.
        File.Delete(Path.ChangeExtension(first.Path, ".json"));
        await File.WriteAllTextAsync(first.Path, "torn");

        var again = await NewStore().EnsureAsync(repository.Path, repository.Commit, CancellationToken.None);

        Assert.True(again.Built);
        Assert.NotEqual("torn", (await File.ReadAllTextAsync(again.Path))[..4]);
        await AssertOnlyImagesLeftAsync(1);
    }

    [Fact]
    public async Task Concurrent_ensures_of_one_commit_build_once()
    {
        var repository = await TestRepository.CreateAsync(_scratch.Combine("repo"), files: 20);
        // Two calls on one store meet at its semaphore; a second store on the same directory stands in for another
        // daemon, which only the lock file keeps out.
        var store = NewStore();
        var results = await Task.WhenAll(
            store.EnsureAsync(repository.Path, "HEAD", CancellationToken.None),
            store.EnsureAsync(repository.Path, "HEAD", CancellationToken.None),
            NewStore().EnsureAsync(repository.Path, "HEAD", CancellationToken.None));

        Assert.Equal(1, results.Count(r => r.Built));
        Assert.Single(results.Select(r => r.Path).Distinct());
        await AssertOnlyImagesLeftAsync(1);
    }

    [Fact]
    public async Task Unknown_revision_is_a_clear_error_and_leaves_nothing()
    {
        var repository = await TestRepository.CreateAsync(_scratch.Combine("repo"), files: 5);
        var error = await Assert.ThrowsAsync<WorkspaceException>(() => NewStore().EnsureAsync(repository.Path, "no-such-branch", CancellationToken.None));

        Assert.Equal(WorkspaceErrorKind.UnknownRevision, error.Kind);
        Assert.Contains("no-such-branch", error.Message, StringComparison.Ordinal);
        await AssertOnlyImagesLeftAsync(0);
    }

    [Fact]
    public async Task A_directory_outside_any_repository_is_a_clear_error()
    {
        var plain = Directory.CreateDirectory(_scratch.Combine("plain")).FullName;
        var error = await Assert.ThrowsAsync<WorkspaceException>(() => NewStore().EnsureAsync(plain, "HEAD", CancellationToken.None));

        Assert.Equal(WorkspaceErrorKind.NotARepository, error.Kind);
        Assert.Contains("not in a git repository", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1L << 40, 10L)]
    [InlineData(1L << 20, 1_000_000L)]
    public async Task Tree_over_budget_is_refused_and_leaves_nothing(long maxBytes, long maxEntries)
    {
        var repository = await TestRepository.CreateAsync(_scratch.Combine("repo"), files: 20);
        var store = new WorkspaceImageStore(new() { StoreDirectory = StoreDirectory, MaxTreeBytes = maxBytes, MaxTreeEntries = maxEntries });
        var error = await Assert.ThrowsAsync<WorkspaceException>(() => store.EnsureAsync(repository.Path, "HEAD", CancellationToken.None));

        Assert.Equal(WorkspaceErrorKind.TooLarge, error.Kind);
        Assert.Contains("limit", error.Message, StringComparison.Ordinal);
        await AssertOnlyImagesLeftAsync(0);
    }

    [Theory]
    [InlineData("staging/*")]
    [InlineData("*.ext4.tmp*")]
    public async Task Build_cancelled_midway_leaves_nothing(string cancelWhenPresent)
    {
        var repository = await TestRepository.CreateAsync(_scratch.Combine("repo"));
        using var cancel = new CancellationTokenSource();
        var ensure = NewStore().EnsureAsync(repository.Path, "HEAD", cancel.Token);
        // Cancel once the build reaches the step (checkout in staging, or mkfs writing the image), not at a guessed time.
        while (!ensure.IsCompleted && !Present(cancelWhenPresent))
        {
            await Task.Delay(2);
        }

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ensure);
        await AssertOnlyImagesLeftAsync(0);
    }

    [Fact]
    public async Task Submodules_are_left_empty_and_reported()
    {
        var repository = await TestRepository.CreateAsync(_scratch.Combine("repo"), files: 3);
        await File.WriteAllTextAsync(Path.Combine(repository.Path, ".gitmodules"), "[submodule \"lib/dep\"]\n\tpath = lib/dep\n\turl = https://example.invalid/dep.git\n");
        await Shell.GitAsync(repository.Path, "update-index", "--add", "--cacheinfo", $"160000,{repository.Commit},lib/dep");
        await Shell.GitAsync(repository.Path, "add", ".gitmodules");
        await Shell.GitAsync(repository.Path, "commit", "-q", "-m", "submodule");

        var store = NewStore();
        var image = await store.EnsureAsync(repository.Path, "HEAD", CancellationToken.None);
        var again = await store.EnsureAsync(repository.Path, "HEAD", CancellationToken.None);

        Assert.Equal(["lib/dep"], image.SkippedSubmodules);
        Assert.Equal(["lib/dep"], again.SkippedSubmodules);
        using var mount = await MountedImage.MountAsync(image.Path, _scratch.Combine("mnt"));
        Assert.Empty(Directory.EnumerateFileSystemEntries(mount.Combine("lib/dep")));
    }

    [Fact]
    public async Task Prune_removes_least_recently_used_images_first()
    {
        var repository = await TestRepository.CreateAsync(_scratch.Combine("repo"), files: 5);
        var store = NewStore();
        var commits = new List<string> { repository.Commit };
        for (var i = 0; i < 2; i++)
        {
            await File.WriteAllTextAsync(Path.Combine(repository.Path, "changed.txt"), $"version {i}\n");
            await Shell.GitAsync(repository.Path, "commit", "-q", "-am", $"version {i}");
            commits.Add(await Shell.GitAsync(repository.Path, "rev-parse", "HEAD"));
        }

        foreach (var commit in commits)
        {
            await store.EnsureAsync(repository.Path, commit, CancellationToken.None);
            await Task.Delay(20);
        }

        // Using the oldest makes the second the least recently used.
        await store.EnsureAsync(repository.Path, commits[0], CancellationToken.None);
        var everything = await store.PruneAsync(long.MaxValue, CancellationToken.None);
        var pruned = await store.PruneAsync(everything.RemainingBytes - 1, CancellationToken.None);

        Assert.Empty(everything.RemovedCommits);
        Assert.Equal([commits[1]], pruned.RemovedCommits);
        Assert.True(pruned.FreedBytes > 0);
        await AssertOnlyImagesLeftAsync(2);
        Assert.Equal([commits[2], commits[0]], (await store.PruneAsync(0, CancellationToken.None)).RemovedCommits);
        await AssertOnlyImagesLeftAsync(0);
    }

    public void Dispose()
    {
        Task.WhenAll(_stores.Select(s => s.SettledAsync())).GetAwaiter().GetResult();
        _scratch.Dispose();
    }

    private WorkspaceImageStore NewStore()
    {
        var store = new WorkspaceImageStore(new WorkspaceStoreOptions { StoreDirectory = StoreDirectory });
        _stores.Add(store);
        return store;
    }

    private bool Present(string pattern)
    {
        var (directory, name) = pattern.Contains('/', StringComparison.Ordinal)
            ? (Path.Combine(StoreDirectory, pattern[..pattern.IndexOf('/', StringComparison.Ordinal)]), pattern[(pattern.IndexOf('/', StringComparison.Ordinal) + 1)..])
            : (StoreDirectory, pattern);
        return Directory.Exists(directory) && Directory.EnumerateFileSystemEntries(directory, name).Any();
    }

    private static async Task<string> InodeAsync(string path) => (await Shell.RunAsync("stat", "--format=%i", path)).Trim();

    /// <summary>Only complete images and their metadata (and the lock files, which stay by design) may remain.</summary>
    private async Task AssertOnlyImagesLeftAsync(int images)
    {
        // Metadata is written once an image is durable, in the background of the build that made it.
        await Task.WhenAll(_stores.Select(s => s.SettledAsync()));
        var files = Directory.Exists(StoreDirectory)
            ? Directory.EnumerateFileSystemEntries(StoreDirectory, "*", SearchOption.AllDirectories)
                .Select(p => Path.GetRelativePath(StoreDirectory, p))
                .Where(p => p != "locks" && !p.StartsWith("locks/", StringComparison.Ordinal) && p != "staging")
                .Order(StringComparer.Ordinal)
                .ToList()
            : [];
        Assert.Equal(images * 2, files.Count);
        Assert.All(files, f => Assert.True(f.EndsWith(".ext4", StringComparison.Ordinal) || f.EndsWith(".json", StringComparison.Ordinal), f));
    }
}
