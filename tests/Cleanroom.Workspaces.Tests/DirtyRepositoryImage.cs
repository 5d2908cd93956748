namespace Cleanroom.Workspaces.Tests;

/// <summary>
/// One image built from a dirty repository and mounted read-only, shared by the tests that only look at it (building
/// it is the expensive part on a 2-core machine).
/// </summary>
public sealed class DirtyRepositoryImage : IAsyncLifetime
{
    private readonly Scratch _scratch = new();
    private MountedImage? _mount;

    internal TestRepository Repository { get; private set; } = null!;

    internal WorkspaceImage Image { get; private set; } = null!;

    internal string StoreDirectory => _scratch.Combine("store");

    internal MountedImage Mount => _mount!;

    public async Task InitializeAsync()
    {
        Repository = await TestRepository.CreateAsync(_scratch.Combine("repo"));
        await Repository.MakeDirtyAsync();
        var store = new WorkspaceImageStore(new WorkspaceStoreOptions { StoreDirectory = StoreDirectory });
        Image = await store.EnsureAsync(Repository.Path, "HEAD", CancellationToken.None);
        _mount = await MountedImage.MountAsync(Image.Path, _scratch.Combine("mnt"));
    }

    public Task DisposeAsync()
    {
        _mount?.Dispose();
        _scratch.Dispose();
        return Task.CompletedTask;
    }
}
