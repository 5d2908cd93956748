namespace Cleanroom.Workspaces.Tests;

/// <summary>Tags pointing at the workspace commit are in the image's .git, so <c>git describe</c> works in the guest.</summary>
public sealed class TagTests : IDisposable
{
    private readonly Scratch _scratch = new("cr-ws-tags");

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public async Task Tags_on_the_commit_are_in_the_image_and_a_later_tag_gets_a_new_image()
    {
        var repository = await TestRepository.CreateAsync(_scratch.Combine("repo"), files: 5);
        await Shell.GitAsync(repository.Path, "tag", "light");
        var store = new WorkspaceImageStore(new() { StoreDirectory = _scratch.Combine("store") });

        var lightweight = await store.EnsureAsync(repository.Path, "HEAD", CancellationToken.None);
        var copy = await CopyAsync(lightweight.Path, "one");
        Assert.Equal("light", await Shell.GitAsync(copy, "describe", "--tags"));
        Assert.Equal("", await Shell.GitAsync(copy, "status", "--porcelain"));

        // An annotated tag made later on the same commit: a new image, with the tag object packed.
        await Shell.GitAsync(repository.Path, "tag", "-a", "-m", "release", "v1.0");
        var annotated = await store.EnsureAsync(repository.Path, repository.Commit, CancellationToken.None);
        var hit = await store.EnsureAsync(repository.Path, "v1.0", CancellationToken.None);

        Assert.True(lightweight.Built);
        Assert.True(annotated.Built);
        Assert.NotEqual(lightweight.Path, annotated.Path);
        Assert.False(hit.Built);
        Assert.Equal(annotated.Path, hit.Path);
        copy = await CopyAsync(annotated.Path, "two");
        Assert.Equal("v1.0", await Shell.GitAsync(copy, "describe"));
        Assert.Equal("light\nv1.0", await Shell.GitAsync(copy, "tag", "--points-at", "HEAD"));
        Assert.Equal("release", await Shell.GitAsync(copy, "tag", "-l", "--format=%(contents:subject)", "v1.0"));
        Assert.Equal("", await Shell.GitAsync(copy, "fsck", "--no-dangling", "--no-progress"));
    }

    [Fact]
    public async Task An_untagged_commit_keeps_the_plain_key_and_tags_of_other_commits_stay_out()
    {
        var repository = await TestRepository.CreateAsync(_scratch.Combine("repo"), files: 5);
        await Shell.GitAsync(repository.Path, "commit", "-q", "--allow-empty", "-m", "next");
        await Shell.GitAsync(repository.Path, "tag", "-a", "-m", "old", "v0.9", "HEAD~1");
        var store = new WorkspaceImageStore(new() { StoreDirectory = _scratch.Combine("store") });

        var image = await store.EnsureAsync(repository.Path, "HEAD", CancellationToken.None);

        Assert.Equal($"v{WorkspaceImageStore.FormatVersion}-{image.Commit}.ext4", Path.GetFileName(image.Path));
        var copy = await CopyAsync(image.Path, "copy");
        Assert.Equal("", await Shell.GitAsync(copy, "tag"));
    }

    private async Task<string> CopyAsync(string image, string name)
    {
        var copy = _scratch.Combine(name);
        using var mount = await MountedImage.MountAsync(image, _scratch.Combine("mnt-" + name));
        await Shell.RunAsync("cp", "-a", mount.Path, copy);
        return copy;
    }
}
