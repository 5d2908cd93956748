using System.Text;
using Cleanroom.Workspaces.Build;
using Cleanroom.Workspaces.Repositories;

namespace Cleanroom.Workspaces.Tests.Repositories;

/// <summary>
/// The repository store against a real git smart-HTTP server on loopback that demands a bearer token, which only the
/// host side (the store's git environment) holds.
/// </summary>
public sealed class RepositoryStoreTests : IAsyncLifetime
{
    private const string Token = "cr-test-token-5f1d2c9a7b";

    private readonly Scratch _scratch = new("cr-repo-test");
    private GitHttpServer _server = null!;
    private Upstream _upstream = null!;

    private string Root => _scratch.Combine("served");

    private string StoreDirectory => _scratch.Combine("store");

    private string Url => _server.UrlOf("project.git");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Root);
        _upstream = await Upstream.CreateAsync(Root, "project", _scratch.Path);
        _server = GitHttpServer.Start(Root, Token);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _scratch.Dispose();
    }

    [Fact]
    public async Task Without_the_hosts_token_the_fetch_fails_clearly_and_leaves_nothing()
    {
        var error = await Assert.ThrowsAsync<RepositoryException>(() => NewStore(withToken: false).EnsureAsync(Url, "main", CancellationToken.None));

        Assert.Equal(RepositoryErrorKind.AuthenticationFailed, error.Kind);
        Assert.Contains("Could not authenticate to " + Url.Replace(".git", "", StringComparison.Ordinal), error.Message, StringComparison.Ordinal);
        Assert.Contains("credential helper", error.Message, StringComparison.Ordinal);
        Assert.True(_server.Refused > 0);
        AssertNoMirrors();
    }

    [Fact]
    public async Task First_fetch_with_the_hosts_token_mirrors_the_repository_and_the_token_goes_nowhere_else()
    {
        var head = await Shell.GitAsync(_upstream.WorkPath, "rev-parse", "HEAD");
        var result = await NewStore().EnsureAsync(Url, "main", CancellationToken.None);

        Assert.True(result.Fetched);
        Assert.Equal(head, result.Commit);
        Assert.Equal(Path.Combine(StoreDirectory, RepositoryUrl.Parse(Url).Key + ".git"), result.MirrorPath);
        Assert.Equal("true", await Shell.GitAsync(result.MirrorPath, "rev-parse", "--is-bare-repository"));
        Assert.All(_server.Authorizations, a => Assert.Equal("Bearer " + Token, a));

        var record = MirrorRecord.TryRead(Path.Combine(StoreDirectory, RepositoryUrl.Parse(Url).Key + ".json"));
        Assert.NotNull(record);
        Assert.Equal(RepositoryUrl.Parse(Url).Normalized, record.Url);
        Assert.True(record.SizeBytes > 0);
        AssertTokenNotUnder(StoreDirectory);
    }

    [Fact]
    public async Task The_workspace_image_of_a_mirrored_commit_is_built_from_the_bare_mirror_without_the_remote()
    {
        var mirrored = await NewStore().EnsureAsync(Url, "main", CancellationToken.None);
        var images = new WorkspaceImageStore(new() { StoreDirectory = _scratch.Combine("images") });

        var image = await images.EnsureAsync(mirrored.MirrorPath, mirrored.Commit, CancellationToken.None);

        Assert.True(image.Built);
        Assert.Equal(mirrored.Commit, image.Commit);
        var config = await Shell.RunAsync("debugfs", "-R", "cat /.git/config", image.Path);
        Assert.Contains("checkStat = minimal", config, StringComparison.Ordinal);
        Assert.DoesNotContain("remote", config, StringComparison.Ordinal);
        Assert.DoesNotContain("127.0.0.1", config, StringComparison.Ordinal);
        Assert.Equal("commit 1 on main\n", await Shell.RunAsync("debugfs", "-R", "cat /file1.txt", image.Path));
        Assert.Equal(-1, IndexOf(await File.ReadAllBytesAsync(image.Path), Encoding.ASCII.GetBytes(Token)));
    }

    [Fact]
    public async Task A_commit_id_the_mirror_has_is_served_without_the_network()
    {
        var first = await NewStore().EnsureAsync(Url, "main", CancellationToken.None);
        await _server.DisposeAsync();

        var warm = await NewStore().EnsureAsync(Url, first.Commit, CancellationToken.None);
        var upper = await NewStore().EnsureAsync(Url, first.Commit.ToUpperInvariant(), CancellationToken.None);

        Assert.False(warm.Fetched);
        Assert.Equal(first.Commit, warm.Commit);
        Assert.Equal(first.MirrorPath, warm.MirrorPath);
        Assert.False(upper.Fetched);
    }

    [Fact]
    public async Task A_branch_that_moved_upstream_is_fetched_again()
    {
        var store = NewStore();
        var before = await store.EnsureAsync(Url, "main", CancellationToken.None);
        var advanced = await _upstream.CommitAsync("main");

        var after = await store.EnsureAsync(Url, "main", CancellationToken.None);

        Assert.NotEqual(before.Commit, advanced);
        Assert.True(after.Fetched);
        Assert.Equal(advanced, after.Commit);
        Assert.Equal(2, _server.Operations);
    }

    [Fact]
    public async Task Tags_short_ids_full_refs_and_the_default_branch_resolve()
    {
        var first = await Shell.GitAsync(_upstream.WorkPath, "rev-parse", "HEAD");
        await _upstream.TagAsync("v1.0");
        var trunk = await _upstream.CommitAsync("trunk");
        await _upstream.SetDefaultBranchAsync("trunk");
        var store = NewStore();

        Assert.Equal(first, (await store.EnsureAsync(Url, "v1.0", CancellationToken.None)).Commit);
        Assert.Equal(first, (await store.EnsureAsync(Url, "refs/tags/v1.0", CancellationToken.None)).Commit);
        Assert.Equal(trunk, (await store.EnsureAsync(Url, trunk[..8], CancellationToken.None)).Commit);
        Assert.Equal(trunk, (await store.EnsureAsync(Url, "", CancellationToken.None)).Commit);
        Assert.Equal(trunk, (await store.EnsureAsync(Url, null, CancellationToken.None)).Commit);
        Assert.Equal("refs/heads/trunk", await Shell.GitAsync(store.MirrorPathOf(Url), "symbolic-ref", "HEAD"));
    }

    [Fact]
    public async Task A_commit_on_no_branch_or_tag_is_fetched_by_id()
    {
        // A pull request's head: on the server, but under a ref the mirror refspecs do not fetch.
        var side = await _upstream.CommitAsync("side");
        await Shell.GitAsync(_upstream.BarePath, "update-ref", "refs/pull/1/head", side);
        await Shell.GitAsync(_upstream.BarePath, "update-ref", "-d", "refs/heads/side");
        var store = NewStore();
        await store.EnsureAsync(Url, "main", CancellationToken.None);

        var result = await store.EnsureAsync(Url, side, CancellationToken.None);

        Assert.Equal(side, result.Commit);
        Assert.Equal(side, await Shell.GitAsync(result.MirrorPath, "rev-parse", "refs/cleanroom/commits/" + side));
    }

    [Theory]
    [InlineData("no-such-branch", "tried refs/heads/no-such-branch, refs/tags/no-such-branch")]
    [InlineData("abcdef12", "commit id prefix abcdef12")]
    [InlineData("0123456789012345678901234567890123456789", "fetching commit 0123456789012345678901234567890123456789 by id")]
    public async Task An_unknown_revision_says_what_was_tried(string revision, string tried)
    {
        var error = await Assert.ThrowsAsync<RepositoryException>(() => NewStore().EnsureAsync(Url, revision, CancellationToken.None));

        Assert.Equal(RepositoryErrorKind.UnknownRevision, error.Kind);
        Assert.Contains(tried, error.Message, StringComparison.Ordinal);
        // The fetch itself succeeded: the mirror stays for the next run.
        Assert.True(Directory.Exists(NewStore().MirrorPathOf(Url)));
    }

    [Theory]
    [InlineData("--upload-pack=x")]
    [InlineData("main~1")]
    [InlineData("a..b")]
    [InlineData("main@{1}")]
    [InlineData("HEAD:file")]
    [InlineData("bad\nname")]
    public async Task Revision_expressions_and_options_are_refused_before_git_runs(string revision)
    {
        var error = await Assert.ThrowsAsync<RepositoryException>(() => NewStore().EnsureAsync(Url, revision, CancellationToken.None));

        Assert.Equal(RepositoryErrorKind.UnknownRevision, error.Kind);
        Assert.Equal(0, _server.Operations);
    }

    [Fact]
    public async Task A_password_in_the_url_is_refused_before_git_runs()
    {
        var url = Url.Replace("http://", "http://user:" + Token + "@", StringComparison.Ordinal);
        var error = await Assert.ThrowsAsync<RepositoryException>(() => NewStore().EnsureAsync(url, "main", CancellationToken.None));

        Assert.Equal(RepositoryErrorKind.InvalidUrl, error.Kind);
        Assert.DoesNotContain(Token, error.Message, StringComparison.Ordinal);
        Assert.Empty(_server.Authorizations);
        AssertNoMirrors();
    }

    [Fact]
    public async Task Concurrent_ensures_of_one_repository_fetch_once()
    {
        var store = NewStore();
        var head = await Shell.GitAsync(_upstream.WorkPath, "rev-parse", "HEAD");

        // A full id on a cold store: the first caller fetches, the rest find the commit; a branch: they share the
        // fetch that started after they asked; a second store on the same directory (another daemon) waits on the flock.
        var results = await Task.WhenAll(
            store.EnsureAsync(Url, "main", CancellationToken.None),
            store.EnsureAsync(Url, "main", CancellationToken.None),
            store.EnsureAsync(Url, head, CancellationToken.None),
            store.EnsureAsync(Url, "main", CancellationToken.None),
            NewStore().EnsureAsync(Url, head, CancellationToken.None));

        Assert.All(results, r => Assert.Equal(head, r.Commit));
        Assert.Equal(1, results.Count(r => r.Fetched));
        Assert.Equal(1, _server.Operations);
    }

    [Fact]
    public async Task A_failed_first_clone_leaves_nothing()
    {
        var error = await Assert.ThrowsAsync<RepositoryException>(
            () => NewStore().EnsureAsync(_server.UrlOf("missing.git"), "main", CancellationToken.None));

        Assert.Equal(RepositoryErrorKind.FetchFailed, error.Kind);
        Assert.Contains("Fetching http://127.0.0.1", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Token, error.Message, StringComparison.Ordinal);
        AssertNoMirrors();
    }

    [Fact]
    public async Task A_repository_over_the_size_limit_is_refused_and_a_first_clone_leaves_nothing()
    {
        await _upstream.CommitAsync("main", bytes: 2 << 20);
        var store = NewStore(maxRepositoryBytes: 1 << 20);

        var error = await Assert.ThrowsAsync<RepositoryException>(() => store.EnsureAsync(Url, "main", CancellationToken.None));

        Assert.Equal(RepositoryErrorKind.TooLarge, error.Kind);
        AssertNoMirrors();
    }

    [Fact]
    public async Task A_cancelled_fetch_leaves_the_existing_mirror_usable()
    {
        var store = NewStore();
        var before = await store.EnsureAsync(Url, "main", CancellationToken.None);
        await _upstream.CommitAsync("main", bytes: 8 << 20);

        // Cancelled in the middle of the transfer, which the server slows down to make sure there is a middle.
        _server.Throttle = true;
        using var cancel = new CancellationTokenSource();
        var operations = _server.Operations;
        var fetch = store.EnsureAsync(Url, "main", cancel.Token);
        while (_server.Operations == operations && !fetch.IsCompleted)
        {
            await Task.Delay(10);
        }

        await Task.Delay(500);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => fetch);
        _server.Throttle = false;
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(before.MirrorPath, "objects"), "tmp_*", SearchOption.AllDirectories));
        Assert.Empty(Directory.EnumerateFiles(before.MirrorPath, "*.lock", SearchOption.AllDirectories));
        // fsck passes (GitAsync throws on a failure); objects a cut-off fetch stored without a ref to them are only dangling.
        var fsck = await Shell.GitAsync(before.MirrorPath, "fsck", "--connectivity-only", "--no-progress");
        Assert.All(fsck.Split('\n', StringSplitOptions.RemoveEmptyEntries), line => Assert.StartsWith("dangling ", line, StringComparison.Ordinal));
        var after = await store.EnsureAsync(Url, "main", CancellationToken.None);
        Assert.Equal(await Shell.GitAsync(_upstream.WorkPath, "rev-parse", "HEAD"), after.Commit);
    }

    [Fact]
    public async Task Prune_removes_old_then_least_recently_used_mirrors_and_skips_busy_ones()
    {
        var other = await Upstream.CreateAsync(Root, "other", _scratch.Path);
        await other.CommitAsync("main", bytes: 256 << 10);
        var third = await Upstream.CreateAsync(Root, "third", _scratch.Path);
        var store = NewStore();
        var a = await store.EnsureAsync(Url, "main", CancellationToken.None);
        var b = await store.EnsureAsync(_server.UrlOf("other.git"), "main", CancellationToken.None);
        var c = await store.EnsureAsync(_server.UrlOf("third.git"), "main", CancellationToken.None);
        await AgeAsync(a, TimeSpan.FromDays(40));
        await AgeAsync(b, TimeSpan.FromDays(2));
        await AgeAsync(c, TimeSpan.FromDays(1));

        // By age: only the mirror unused for 40 days.
        var byAge = await store.PruneAsync(long.MaxValue, TimeSpan.FromDays(30), CancellationToken.None);
        Assert.Equal([a.Url], byAge.RemovedUrls);
        Assert.False(Directory.Exists(a.MirrorPath));
        Assert.False(File.Exists(Path.ChangeExtension(a.MirrorPath, ".json")));

        // By size: the least recently used goes first, unless someone holds its lock.
        using (new KeyLocks(Path.Combine(StoreDirectory, "locks")).TryAcquire(RepositoryUrl.Parse(b.Url).Key))
        {
            var busy = await store.PruneAsync(1, TimeSpan.FromDays(30), CancellationToken.None);
            Assert.Equal([c.Url], busy.RemovedUrls);
            Assert.True(Directory.Exists(b.MirrorPath));
        }

        var bySize = await store.PruneAsync(0, TimeSpan.FromDays(30), CancellationToken.None);
        Assert.Equal([b.Url], bySize.RemovedUrls);
        Assert.True(bySize.FreedBytes > 256 << 10);
        Assert.Equal(0, bySize.RemainingBytes);
        AssertNoMirrors();
    }

    [Fact]
    public async Task A_file_url_and_a_plain_path_share_one_mirror()
    {
        var store = NewStore();
        var byUrl = await store.EnsureAsync("file://" + _upstream.BarePath, "main", CancellationToken.None);
        var byPath = await store.EnsureAsync(_upstream.BarePath[..^4], byUrl.Commit, CancellationToken.None);

        Assert.True(byUrl.Fetched);
        Assert.False(byPath.Fetched);
        Assert.Equal(byUrl.MirrorPath, byPath.MirrorPath);
    }

    private RepositoryStore NewStore(bool withToken = true, long maxRepositoryBytes = 1L << 30)
    {
        // The host's own git configuration is left out so the test does not depend on this machine's; the token is
        // given the way a host would configure it (an http.extraHeader), never in the URL.
        var environment = new Dictionary<string, string>
        {
            ["GIT_CONFIG_NOSYSTEM"] = "1",
            ["GIT_CONFIG_GLOBAL"] = "/dev/null",
        };
        if (withToken)
        {
            environment["GIT_CONFIG_COUNT"] = "1";
            environment["GIT_CONFIG_KEY_0"] = "http.extraHeader";
            environment["GIT_CONFIG_VALUE_0"] = "Authorization: Bearer " + Token;
        }

        return new RepositoryStore(new()
        {
            StoreDirectory = StoreDirectory,
            GitEnvironment = environment,
            MaxRepositoryBytes = maxRepositoryBytes,
            FetchTimeout = TimeSpan.FromMinutes(2),
        });
    }

    private static async Task AgeAsync(MirroredCommit mirror, TimeSpan age)
    {
        var path = Path.ChangeExtension(mirror.MirrorPath, ".json");
        var record = MirrorRecord.TryRead(path)!;
        await (record with { LastUseUtc = DateTime.UtcNow - age }).WriteAsync(path, CancellationToken.None);
    }

    private void AssertNoMirrors()
    {
        Assert.Empty(Directory.Exists(StoreDirectory) ? Directory.EnumerateDirectories(StoreDirectory, "*.git") : []);
        var temp = Path.Combine(StoreDirectory, "tmp");
        Assert.Empty(Directory.Exists(temp) ? Directory.EnumerateFileSystemEntries(temp) : []);
    }

    /// <summary>No file of the store (mirror config, packs, records) holds the token.</summary>
    private static void AssertTokenNotUnder(string directory)
    {
        var token = Encoding.ASCII.GetBytes(Token);
        foreach (var file in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories))
        {
            Assert.True(IndexOf(File.ReadAllBytes(file), token) < 0, $"{file} holds the token");
        }
    }

    private static int IndexOf(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle);
}
