namespace Cleanroom.Workspaces.Tests;

/// <summary>
/// Images written straight from git's objects (the default) against images of a git checkout (the slower way kept
/// for trees git would convert): the same files, modes, links and names, a clean <c>git status</c>; and a crafted
/// tree refused as git would refuse it.
/// </summary>
public sealed class DirectWriteTests : IDisposable
{
    private readonly Scratch _scratch = new("cr-ws-direct");

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public async Task Written_directly_the_image_holds_what_a_git_checkout_holds()
    {
        var repository = await TestRepository.CreateAsync(_scratch.Combine("repo"), files: 120);
        await Shell.ShAsync(repository.Path, "mkdir -p empty/deep && : > empty/deep/zero && ln -s ../../missing empty/dangling && "
            + "ln -s \"$(head -c 300 /dev/zero | tr '\\0' 'x')\" longlink && git add -A && git -c user.name=t -c user.email=t@t commit -qm more");

        var direct = await new WorkspaceImageStore(new() { StoreDirectory = _scratch.Combine("direct") }).EnsureAsync(repository.Path, "HEAD", CancellationToken.None);
        var checkedOut = await new WorkspaceImageStore(new() { StoreDirectory = _scratch.Combine("git"), CheckoutWithGit = true })
            .EnsureAsync(repository.Path, "HEAD", CancellationToken.None);

        using var a = await MountedImage.MountAsync(direct.Path, _scratch.Combine("mnt-direct"));
        using var b = await MountedImage.MountAsync(checkedOut.Path, _scratch.Combine("mnt-git"));
        // Names (as bytes), types, permission bits, sizes and link targets of everything but the .git and lost+found.
        const string List = "find . -mindepth 1 \\( -path ./.git -o -path ./lost+found \\) -prune -o -printf '%P %y %#m %s %l\\n' | LC_ALL=C sort | od -An -c";
        Assert.Equal(await Shell.ShAsync(b.Path, List), await Shell.ShAsync(a.Path, List));
        await Shell.RunAsync("diff", "-r", "--no-dereference", "-x", ".git", "-x", "lost+found", a.Path, b.Path);
        Assert.False(Directory.Exists(a.Combine("lost+found")));

        var copy = _scratch.Combine("copy");
        await Shell.RunAsync("cp", "-a", a.Path, copy);
        Assert.Equal("", await Shell.GitAsync(copy, "status", "--porcelain"));
        Assert.Equal(await Shell.GitAsync(repository.Path, "rev-parse", "HEAD"), await Shell.GitAsync(copy, "rev-parse", "HEAD"));
        await Shell.GitAsync(copy, "fsck", "--no-dangling");
    }

    [Fact]
    public async Task Status_in_the_read_only_image_rehashes_nothing()
    {
        var repository = await TestRepository.CreateAsync(_scratch.Combine("repo"), files: 50);
        var image = await new WorkspaceImageStore(new() { StoreDirectory = _scratch.Combine("store") }).EnsureAsync(repository.Path, "HEAD", CancellationToken.None);

        using var mount = await MountedImage.MountAsync(image.Path, _scratch.Combine("mnt"));
        // Read-only: git cannot refresh the index, so a clean answer means the stat data it holds matches the files.
        // diff-files compares stat data without refreshing: a file whose mtime or size differs is listed.
        Assert.Equal("", await Shell.GitAsync(mount.Path, "diff-files", "--name-only"));
        Assert.Equal("", await Shell.GitAsync(mount.Path, "status", "--porcelain"));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_sha256_repository_gets_a_clean_sha256_checkout(bool withFiles)
    {
        var repository = _scratch.Combine("sha256");
        Directory.CreateDirectory(repository);
        await Shell.GitAsync(repository, "init", "-q", "--object-format=sha256");
        if (withFiles)
        {
            await Shell.ShAsync(repository, "mkdir -p a/b && echo one > a/b/one.txt && echo two > two.txt && ln -s two.txt link && git add -A");
        }

        await Shell.GitAsync(repository, "commit", "-q", "--allow-empty", "-m", "sha256");
        var commit = await Shell.GitAsync(repository, "rev-parse", "HEAD");

        var image = await new WorkspaceImageStore(new() { StoreDirectory = _scratch.Combine("store") }).EnsureAsync(repository, "HEAD", CancellationToken.None);

        Assert.Equal(64, commit.Length);
        using var mount = await MountedImage.MountAsync(image.Path, _scratch.Combine("mnt"));
        Assert.Equal(commit, await Shell.GitAsync(mount.Path, "rev-parse", "HEAD"));
        Assert.Equal("", await Shell.GitAsync(mount.Path, "diff-files", "--name-only"));
        Assert.Equal("", await Shell.GitAsync(mount.Path, "status", "--porcelain"));
    }

    [Fact]
    public async Task A_tree_git_would_convert_on_checkout_is_checked_out_by_git()
    {
        var repository = _scratch.Combine("crlf");
        Directory.CreateDirectory(repository);
        await Shell.GitAsync(repository, "init", "-q");
        await Shell.ShAsync(repository, "printf '*.bat text eol=crlf\\n' > .gitattributes && printf 'echo one\\necho two\\n' > run.bat && "
            + "git add -A && git -c user.name=t -c user.email=t@t commit -qm crlf");

        var image = await new WorkspaceImageStore(new() { StoreDirectory = _scratch.Combine("store") }).EnsureAsync(repository, "HEAD", CancellationToken.None);

        using var mount = await MountedImage.MountAsync(image.Path, _scratch.Combine("mnt"));
        Assert.Equal("echo one\r\necho two\r\n", await File.ReadAllTextAsync(mount.Combine("run.bat")));
    }

    [Theory]
    [InlineData(".git", "config")]
    [InlineData(".GIT", "hooks")]
    public async Task A_crafted_tree_with_a_dot_git_entry_is_refused_and_leaves_nothing(string name, string inner)
    {
        var repository = _scratch.Combine("crafted");
        Directory.CreateDirectory(repository);
        await Shell.GitAsync(repository, "init", "-q");
        // git add refuses such paths, so the tree is made from objects, as an attacker's push would carry it.
        var blob = await Shell.ShAsync(repository, "printf '[core]\\n\\thooksPath = /tmp\\n' | git hash-object -w --stdin");
        var innerTree = await Shell.ShAsync(repository, $"printf '100644 blob {blob.Trim()}\\t{inner}\\n' | git mktree");
        var tree = await Shell.ShAsync(repository, $"printf '040000 tree {innerTree.Trim()}\\t{name}\\n100644 blob {blob.Trim()}\\tok.txt\\n' | git mktree");
        var commit = await Shell.ShAsync(repository, $"git -c user.name=t -c user.email=t@t commit-tree {tree.Trim()} -m crafted");
        var store = _scratch.Combine("store");

        var error = await Assert.ThrowsAsync<WorkspaceException>(
            () => new WorkspaceImageStore(new() { StoreDirectory = store }).EnsureAsync(repository, commit.Trim(), CancellationToken.None));

        Assert.Equal(WorkspaceErrorKind.InvalidTree, error.Kind);
        Assert.Contains(".git component", error.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFiles(store, "*.ext4*"));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(store, "staging")));
    }

    [Fact]
    public async Task A_symlink_whose_target_is_longer_than_a_path_is_refused()
    {
        var repository = _scratch.Combine("longlink");
        Directory.CreateDirectory(repository);
        await Shell.GitAsync(repository, "init", "-q");
        var blob = await Shell.ShAsync(repository, "head -c 5000 /dev/zero | tr '\\0' 'a' | git hash-object -w --stdin");
        var tree = await Shell.ShAsync(repository, $"printf '120000 blob {blob.Trim()}\\tlink\\n' | git mktree");
        var commit = await Shell.ShAsync(repository, $"git -c user.name=t -c user.email=t@t commit-tree {tree.Trim()} -m crafted");

        var error = await Assert.ThrowsAsync<WorkspaceException>(
            () => new WorkspaceImageStore(new() { StoreDirectory = _scratch.Combine("store") }).EnsureAsync(repository, commit.Trim(), CancellationToken.None));

        Assert.Equal(WorkspaceErrorKind.InvalidTree, error.Kind);
        Assert.Contains("'link'", error.Message, StringComparison.Ordinal);
    }
}
