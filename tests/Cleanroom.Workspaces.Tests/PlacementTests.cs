namespace Cleanroom.Workspaces.Tests;

/// <summary>
/// Where things are built: a store on another file system than the repository, staging in memory, and a copy that
/// holds the one commit and nothing of the history or the host's paths.
/// </summary>
public sealed class PlacementTests : IDisposable
{
    private const string MemoryFileSystem = "/dev/shm";
    private readonly Scratch _disk = new();
    private readonly Scratch _memory = new("cr-ws-test", MemoryFileSystem);

    [Fact]
    public async Task Store_on_another_file_system_than_the_repository_works_and_the_copy_holds_one_commit()
    {
        var repository = await TestRepository.CreateAsync(_disk.Combine("repo"), files: 5);
        var oldBlob = await Shell.GitAsync(repository.Path, "rev-parse", "HEAD:deleted.txt");
        File.Delete(Path.Combine(repository.Path, "deleted.txt"));
        await Shell.GitAsync(repository.Path, "commit", "-q", "-am", "second");
        var second = await Shell.GitAsync(repository.Path, "rev-parse", "HEAD");

        var store = new WorkspaceImageStore(new WorkspaceStoreOptions { StoreDirectory = _memory.Combine("store") });
        var image = await store.EnsureAsync(repository.Path, "HEAD", CancellationToken.None);

        using var mount = await MountedImage.MountAsync(image.Path, _disk.Combine("mnt"));
        Assert.Equal(second, await GitInAsync(mount, "rev-parse", "HEAD"));
        Assert.Equal("1", await GitInAsync(mount, "rev-list", "--count", "HEAD"));
        Assert.Equal(string.Empty, await GitInAsync(mount, "status", "--porcelain"));
        // The first commit's deleted file is history: not in the copy, and no alternates entry reaches the host's objects.
        Assert.False(File.Exists(mount.Combine(".git/objects/info/alternates")));
        var lookup = await Cleanroom.HostProcesses.HostCommand.TryRunAsync(
            "git", ["-c", "safe.directory=*", "-C", mount.Path, "cat-file", "-e", oldBlob], TimeSpan.FromMinutes(1), CancellationToken.None);
        Assert.NotEqual(0, lookup.ExitCode);
    }

    [Fact]
    public async Task Memory_staging_is_used_when_the_tree_fits_and_left_empty()
    {
        var repository = await TestRepository.CreateAsync(_disk.Combine("repo"));
        var staging = Directory.CreateDirectory(_memory.Combine("staging")).FullName;
        var store = new WorkspaceImageStore(new WorkspaceStoreOptions { StoreDirectory = _disk.Combine("store"), MemoryStagingDirectory = staging });

        var ensure = store.EnsureAsync(repository.Path, "HEAD", CancellationToken.None);
        var sawStaging = false;
        while (!ensure.IsCompleted && !sawStaging)
        {
            sawStaging = Directory.EnumerateFileSystemEntries(staging).Any();
            await Task.Delay(2);
        }

        var image = await ensure;
        Assert.True(sawStaging, "the build did not stage in memory");
        Assert.True(image.Built);
        // The spent stage is removed while the image settles in the background.
        await store.SettledAsync();
        Assert.Empty(Directory.EnumerateFileSystemEntries(staging));
        using var mount = await MountedImage.MountAsync(image.Path, _disk.Combine("mnt"));
        Assert.Equal(string.Empty, await GitInAsync(mount, "status", "--porcelain"));
    }

    [Fact]
    public async Task Memory_staging_is_skipped_for_a_tree_over_its_limit()
    {
        var repository = await TestRepository.CreateAsync(_disk.Combine("repo"), files: 5);
        var staging = Directory.CreateDirectory(_memory.Combine("staging")).FullName;
        var store = new WorkspaceImageStore(new WorkspaceStoreOptions
        {
            StoreDirectory = _disk.Combine("store"),
            MemoryStagingDirectory = staging,
            MemoryStagingMaxBytes = 1024,
        });

        var ensure = store.EnsureAsync(repository.Path, "HEAD", CancellationToken.None);
        var sawStaging = false;
        while (!ensure.IsCompleted)
        {
            sawStaging |= Directory.EnumerateFileSystemEntries(staging).Any();
            await Task.Delay(2);
        }

        Assert.True((await ensure).Built);
        Assert.False(sawStaging);
    }

    public void Dispose()
    {
        _disk.Dispose();
        _memory.Dispose();
    }

    private static async Task<string> GitInAsync(MountedImage mount, params string[] args) =>
        (await Shell.RunAsync("env", ["GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "git", "-c", "safe.directory=*", "-C", mount.Path, .. args])).TrimEnd('\n');
}
