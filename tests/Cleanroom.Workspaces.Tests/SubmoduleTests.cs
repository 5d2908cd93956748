using Cleanroom.TestSupport;
using Cleanroom.Workspaces.Repositories;
using Cleanroom.Workspaces.Tests.Repositories;

namespace Cleanroom.Workspaces.Tests;

/// <summary>Submodules checked out at the recorded commits on the host, from the repository's own module directories or fetched.</summary>
public sealed class SubmoduleTests : IDisposable
{
    private readonly Scratch _scratch = new("cr-ws-sub");

    private string StoreDirectory => _scratch.Combine("store");

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public async Task Submodules_and_nested_ones_are_in_the_image_at_their_commits_with_a_clean_git_layout()
    {
        var (super, sub, nested) = await CreateNestedAsync();
        var store = new WorkspaceImageStore(new() { StoreDirectory = StoreDirectory });

        var image = await store.EnsureAsync(super, "HEAD", new WorkspaceCheckoutOptions { Submodules = true }, CancellationToken.None);
        var again = await store.EnsureAsync(super, "HEAD", new WorkspaceCheckoutOptions { Submodules = true }, CancellationToken.None);
        var plain = await store.EnsureAsync(super, "HEAD", CancellationToken.None);

        Assert.True(image.Built);
        Assert.Empty(image.SkippedSubmodules);
        Assert.False(again.Built);
        Assert.Equal(image.Path, again.Path);
        Assert.NotEqual(image.Path, plain.Path);
        Assert.Equal(["lib/sub"], plain.SkippedSubmodules);

        var copy = _scratch.Combine("copy");
        using (var mount = await MountedImage.MountAsync(image.Path, _scratch.Combine("mnt")))
        {
            Assert.Equal("sub\n", await File.ReadAllTextAsync(mount.Combine("lib/sub/sub.txt")));
            Assert.Equal("nested\n", await File.ReadAllTextAsync(mount.Combine("lib/sub/deps/nested/nested.txt")));
            Assert.Equal("gitdir: ../../.git/modules/lib/sub\n", await File.ReadAllTextAsync(mount.Combine("lib/sub/.git")));
            Assert.DoesNotContain(_scratch.Path, await File.ReadAllTextAsync(mount.Combine(".git/modules/lib/sub/config")), StringComparison.Ordinal);
            await Shell.RunAsync("cp", "-a", mount.Path, copy);
        }

        Assert.Equal("", await Shell.GitAsync(copy, "status", "--porcelain"));
        // Untrimmed: the leading column is the state (' ' checked out at the recorded commit, '-' not, '+' another).
        var status = (await Shell.RunAsync("git", "-C", copy, "submodule", "status", "--recursive")).TrimEnd('\n').Split('\n');
        Assert.Equal(2, status.Length);
        Assert.StartsWith($" {sub} lib/sub", status[0], StringComparison.Ordinal);
        Assert.StartsWith($" {nested} lib/sub/deps/nested", status[1], StringComparison.Ordinal);
        Assert.Equal(nested, await Shell.GitAsync(Path.Combine(copy, "lib/sub/deps/nested"), "log", "-1", "--format=%H"));
        Assert.Equal("", await Shell.GitAsync(Path.Combine(copy, "lib/sub"), "status", "--porcelain"));
    }

    [Fact]
    public async Task More_submodules_than_the_limit_are_refused()
    {
        var (super, _, _) = await CreateNestedAsync();
        var store = new WorkspaceImageStore(new() { StoreDirectory = StoreDirectory, MaxSubmodules = 1 });

        var error = await Assert.ThrowsAsync<WorkspaceException>(
            () => store.EnsureAsync(super, "HEAD", new WorkspaceCheckoutOptions { Submodules = true }, CancellationToken.None));

        Assert.Equal(WorkspaceErrorKind.TooLarge, error.Kind);
        Assert.Contains("lib/sub/deps/nested", error.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFiles(StoreDirectory, "*.ext4"));
    }

    [Fact]
    public async Task Submodule_trees_count_against_the_tree_budget()
    {
        var (super, _, _) = await CreateNestedAsync();
        var entries = long.Parse(await Shell.ShAsync(super, "git ls-tree -r -t --full-tree HEAD | wc -l"), System.Globalization.CultureInfo.InvariantCulture);
        var store = new WorkspaceImageStore(new() { StoreDirectory = StoreDirectory, MaxTreeEntries = entries + 1 });

        await store.EnsureAsync(super, "HEAD", CancellationToken.None);
        var error = await Assert.ThrowsAsync<WorkspaceException>(
            () => store.EnsureAsync(super, "HEAD", new WorkspaceCheckoutOptions { Submodules = true }, CancellationToken.None));

        Assert.Equal(WorkspaceErrorKind.TooLarge, error.Kind);
    }

    [Fact]
    public async Task A_submodule_only_on_a_server_is_fetched_through_the_repository_store_by_its_relative_url()
    {
        var root = Directory.CreateDirectory(_scratch.Combine("served")).FullName;
        var dep = await Upstream.CreateAsync(root, "dep", _scratch.Path);
        var depCommit = await Shell.GitAsync(dep.WorkPath, "rev-parse", "HEAD");
        var port = FreePort.Next();
        var super = await CreateWithGitlinkAsync("super", "lib/dep", depCommit, "../dep.git");
        await Shell.GitAsync(super, "remote", "add", "origin", $"git://127.0.0.1:{port}/super.git");
        var repositories = new RepositoryStore(new() { StoreDirectory = _scratch.Combine("mirrors"), GitEnvironment = Isolated });
        var store = new WorkspaceImageStore(new() { StoreDirectory = StoreDirectory }, repositories);

        WorkspaceImage image;
        using (var daemon = await GitDaemonTests.StartDaemonAsync(root, port))
        {
            try
            {
                image = await store.EnsureAsync(super, "HEAD", OnlyLoopback(port), CancellationToken.None);
            }
            finally
            {
                daemon.Kill(entireProcessTree: true);
                await daemon.WaitForExitAsync();
            }
        }

        Assert.True(Directory.Exists(repositories.MirrorPathOf($"git://127.0.0.1:{port}/dep.git")));
        using var mount = await MountedImage.MountAsync(image.Path, _scratch.Combine("mnt"));
        Assert.Equal("commit 1 on main\n", await File.ReadAllTextAsync(mount.Combine("lib/dep/file1.txt")));
        var copy = _scratch.Combine("copy");
        await Shell.RunAsync("cp", "-a", mount.Path, copy);
        Assert.Equal("", await Shell.GitAsync(copy, "status", "--porcelain"));
        Assert.StartsWith($" {depCommit} lib/dep", await Shell.RunAsync("git", "-C", copy, "submodule", "status"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_mirrored_repository_fetches_its_submodules_relative_to_its_own_url()
    {
        var root = Directory.CreateDirectory(_scratch.Combine("served")).FullName;
        var dep = await Upstream.CreateAsync(root, "dep", _scratch.Path);
        var depCommit = await Shell.GitAsync(dep.WorkPath, "rev-parse", "HEAD");
        var super = await CreateWithGitlinkAsync("super", "lib/dep", depCommit, "../dep.git");
        await Shell.GitAsync(root, "clone", "-q", "--bare", super, Path.Combine(root, "super.git"));
        var port = FreePort.Next();
        var url = $"git://127.0.0.1:{port}/super.git";
        var repositories = new RepositoryStore(new() { StoreDirectory = _scratch.Combine("mirrors"), GitEnvironment = Isolated });
        var store = new WorkspaceImageStore(new() { StoreDirectory = StoreDirectory }, repositories);

        WorkspaceImage image;
        using (var daemon = await GitDaemonTests.StartDaemonAsync(root, port))
        {
            try
            {
                var mirrored = await repositories.EnsureAsync(url, "main", CancellationToken.None);
                image = await store.EnsureAsync(
                    mirrored.MirrorPath, mirrored.Commit, OnlyLoopback(port) with { RepositoryUrl = url }, CancellationToken.None);
            }
            finally
            {
                daemon.Kill(entireProcessTree: true);
                await daemon.WaitForExitAsync();
            }
        }

        Assert.Empty(image.SkippedSubmodules);
        using var mount = await MountedImage.MountAsync(image.Path, _scratch.Combine("mnt"));
        Assert.Equal("commit 1 on main\n", await File.ReadAllTextAsync(mount.Combine("lib/dep/file1.txt")));
    }

    [Fact]
    public async Task A_commit_the_server_does_not_have_fails_the_build_naming_path_and_commit()
    {
        var root = Directory.CreateDirectory(_scratch.Combine("served")).FullName;
        await Upstream.CreateAsync(root, "dep", _scratch.Path);
        var port = FreePort.Next();
        var missing = new string('b', 40);
        var super = await CreateWithGitlinkAsync("super", "lib/dep", missing, $"git://127.0.0.1:{port}/dep.git");
        var store = new WorkspaceImageStore(
            new() { StoreDirectory = StoreDirectory }, new RepositoryStore(new() { StoreDirectory = _scratch.Combine("mirrors"), GitEnvironment = Isolated }));

        WorkspaceException error;
        using (var daemon = await GitDaemonTests.StartDaemonAsync(root, port))
        {
            try
            {
                error = await Assert.ThrowsAsync<WorkspaceException>(
                    () => store.EnsureAsync(super, "HEAD", OnlyLoopback(port), CancellationToken.None));
            }
            finally
            {
                daemon.Kill(entireProcessTree: true);
                await daemon.WaitForExitAsync();
            }
        }

        Assert.Equal(WorkspaceErrorKind.SubmoduleFailed, error.Kind);
        Assert.Contains("'lib/dep'", error.Message, StringComparison.Ordinal);
        Assert.Contains(missing, error.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFiles(StoreDirectory, "*.ext4"));
    }

    [Fact]
    public async Task A_submodule_url_the_policy_does_not_allow_is_refused_before_the_host_connects_to_it()
    {
        // A hostile .gitmodules naming a server the sandbox may not reach: the host's credentials must not go there.
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        var super = await CreateWithGitlinkAsync("super", "lib/dep", new string('c', 40), $"git://127.0.0.1:{port}/private.git");
        var repositories = new RepositoryStore(new() { StoreDirectory = _scratch.Combine("mirrors"), GitEnvironment = Isolated });
        var store = new WorkspaceImageStore(new() { StoreDirectory = StoreDirectory }, repositories);

        foreach (var checkout in new[] { OnlyLoopback(port + 1), new WorkspaceCheckoutOptions { Submodules = true } })
        {
            var error = await Assert.ThrowsAsync<WorkspaceException>(() => store.EnsureAsync(super, "HEAD", checkout, CancellationToken.None));

            Assert.Equal(WorkspaceErrorKind.SubmoduleFailed, error.Kind);
            Assert.Contains("'lib/dep'", error.Message, StringComparison.Ordinal);
            Assert.Contains($"allow 127.0.0.1:{port} in network.allow", error.Message, StringComparison.Ordinal);
        }

        Assert.False(listener.Pending());
        Assert.False(Directory.Exists(repositories.MirrorPathOf($"git://127.0.0.1:{port}/private.git")));
        Assert.Empty(Directory.EnumerateFiles(StoreDirectory, "*.ext4"));
    }

    [Theory]
    [InlineData("lib/dep", "file:///etc/passwd-repo.git", "local path")]
    [InlineData("lib/dep", "/srv/elsewhere.git", "local path")]
    [InlineData("lib/dep", "ext::sh -c touch% /tmp/pwned", "remote helper")]
    [InlineData("../../escape", "https://example.invalid/x.git", "not a plain relative name")]
    [InlineData(null, null, "no section")]
    public async Task Hostile_gitmodules_are_refused_naming_the_submodule(string? name, string? url, string expected)
    {
        var super = await CreateWithGitlinkAsync("super", "lib/dep", new string('a', 40), url, name);
        var store = new WorkspaceImageStore(new() { StoreDirectory = StoreDirectory }, new RepositoryStore(new() { StoreDirectory = _scratch.Combine("mirrors") }));

        var error = await Assert.ThrowsAsync<WorkspaceException>(
            () => store.EnsureAsync(super, "HEAD", new WorkspaceCheckoutOptions { Submodules = true }, CancellationToken.None));

        Assert.Equal(WorkspaceErrorKind.SubmoduleFailed, error.Kind);
        Assert.Contains("'lib/dep'", error.Message, StringComparison.Ordinal);
        Assert.Contains(new string('a', 40), error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFiles(StoreDirectory, "*.ext4"));
        Assert.Empty(Directory.EnumerateDirectories(_scratch.Combine("mirrors"), "*.git"));
    }

    private static Dictionary<string, string> Isolated => new() { ["GIT_CONFIG_NOSYSTEM"] = "1", ["GIT_CONFIG_GLOBAL"] = "/dev/null" };

    /// <summary>A superproject with a gitlink to a commit it does not have, and a .gitmodules section (unless <paramref name="url"/> is null).</summary>
    private async Task<string> CreateWithGitlinkAsync(string directory, string path, string commit, string? url, string? name = null)
    {
        var super = Directory.CreateDirectory(_scratch.Combine(directory)).FullName;
        await Shell.GitAsync(super, "init", "-q", "-b", "main");
        await File.WriteAllTextAsync(Path.Combine(super, "top.txt"), "top\n");
        if (url is not null)
        {
            await File.WriteAllTextAsync(Path.Combine(super, ".gitmodules"), $"[submodule \"{name ?? path}\"]\n\tpath = {path}\n\turl = {url}\n");
        }

        // Only the named files: `add -A` would stage the gitlink's removal, its directory being absent.
        await Shell.GitAsync(super, "update-index", "--add", "--cacheinfo", $"160000,{commit},{path}");
        await Shell.GitAsync(super, "add", "top.txt");
        if (url is not null)
        {
            await Shell.GitAsync(super, "add", ".gitmodules");
        }

        await Shell.GitAsync(super, "commit", "-q", "-m", "gitlink");
        return super;
    }

    /// <summary>super → lib/sub → deps/nested, checked out with <c>git submodule update --init --recursive</c>.</summary>
    private async Task<(string Super, string Sub, string Nested)> CreateNestedAsync()
    {
        var nested = await CommitOneFileAsync("nested");
        var sub = await CommitOneFileAsync("sub");
        await Shell.GitAsync(sub, "-c", "protocol.file.allow=always", "submodule", "add", "-q", nested, "deps/nested");
        await Shell.GitAsync(sub, "commit", "-q", "-m", "nested");
        var super = await CommitOneFileAsync("super");
        await Shell.GitAsync(super, "-c", "protocol.file.allow=always", "submodule", "add", "-q", sub, "lib/sub");
        await Shell.GitAsync(super, "-c", "protocol.file.allow=always", "submodule", "update", "-q", "--init", "--recursive");
        await Shell.GitAsync(super, "commit", "-q", "-m", "sub");
        return (super, await Shell.GitAsync(sub, "rev-parse", "HEAD"), await Shell.GitAsync(nested, "rev-parse", "HEAD"));
    }

    private async Task<string> CommitOneFileAsync(string name)
    {
        var path = Directory.CreateDirectory(_scratch.Combine(name)).FullName;
        await Shell.GitAsync(path, "init", "-q", "-b", "main");
        await File.WriteAllTextAsync(Path.Combine(path, name + ".txt"), name + "\n");
        await Shell.GitAsync(path, "add", "-A");
        await Shell.GitAsync(path, "commit", "-q", "-m", name);
        return path;
    }

    /// <summary>Submodules on, fetching allowed from the loopback server on <paramref name="port"/> only, as a policy allowing it would.</summary>
    private static WorkspaceCheckoutOptions OnlyLoopback(int port) =>
        new() { Submodules = true, SubmoduleFetchAllowed = (host, allowedPort) => host == "127.0.0.1" && allowedPort == port };
}
