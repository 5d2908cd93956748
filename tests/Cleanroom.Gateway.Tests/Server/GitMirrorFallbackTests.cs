using System.Collections.Concurrent;
using System.Text;
using Cleanroom.Gateway.Server;
using Cleanroom.TestSupport;
using Cleanroom.Workspaces.Repositories;

namespace Cleanroom.Gateway.Tests.Server;

/// <summary>
/// The git route's fallback on host-side mirrors: real <c>git clone</c> through the gateway, a real
/// <c>git http-backend</c> upstream that goes down or holds its answers, and real bare mirrors made by the
/// <see cref="RepositoryStore"/> (fetched from that upstream under the repository's https URL).
/// </summary>
public sealed class GitMirrorFallbackTests : IAsyncLifetime
{
    private const string Host = "git.example.test";
    private readonly Scratch _upstreamRoot = new();
    private readonly Scratch _work = new();
    private readonly Scratch _state = new();
    private readonly ArrivalGate _gate = new();
    private GitHttpBackendServer _backend = null!;
    private RepositoryStore _store = null!;
    private RecordingMirrors _mirrors = null!;
    private string _head = "";
    private int _packsBefore;

    private string CacheDirectory => Path.Combine(_state.Path, "cache");

    public Task InitializeAsync()
    {
        _head = GitHttpBackendServer.CreateRepository(_upstreamRoot.Path, "repo.git");
        _backend = GitHttpBackendServer.Start(_upstreamRoot.Path, beforeAnswer: _gate.PassAsync);

        // The store fetches https://git.example.test/… as a host would, rewritten to the loopback upstream.
        _store = new RepositoryStore(new RepositoryStoreOptions
        {
            StoreDirectory = Path.Combine(_state.Path, "repositories"),
            FetchTimeout = TimeSpan.FromMinutes(2),
            GitEnvironment = new Dictionary<string, string>
            {
                ["GIT_CONFIG_NOSYSTEM"] = "1",
                ["GIT_CONFIG_GLOBAL"] = "/dev/null",
                ["GIT_CONFIG_COUNT"] = "1",
                ["GIT_CONFIG_KEY_0"] = $"url.{_backend.BaseUri}.insteadOf",
                ["GIT_CONFIG_VALUE_0"] = $"https://{Host}/",
            },
        });
        _mirrors = new RecordingMirrors(_store);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        _gate.Release();
        await _backend.DisposeAsync();
        _upstreamRoot.Dispose();
        _work.Dispose();
        _state.Dispose();
    }

    [Theory]
    [InlineData("0", "0")]
    [InlineData("2", "2")]
    [InlineData("0", "2")]
    [InlineData("2", "0")]
    public async Task With_the_upstream_down_a_scope_that_fetched_before_clones_from_the_mirror_flagged_stale(string primedWith, string clonedWith)
    {
        await using var gateway = await StartAsync();
        var (listed, _, listErr) = LsRemote(gateway, primedWith);
        Assert.True(listed == 0, listErr + gateway.Log);
        Assert.Equal(_head, await MirrorAsync());
        await _backend.StopAsync();

        var (code, _, err) = Clone(gateway, clonedWith, "from-mirror");

        Assert.True(code == 0, err + gateway.Log);
        Assert.Equal(_head, GitHttpBackendServer.Git(Path.Combine(_work.Path, "from-mirror"), "rev-parse", "HEAD").Trim());
        Assert.Equal(_packsBefore, _backend.PackRequests);
        var git = gateway.Counters("git");
        Assert.True(git.StaleServed >= 2, $"stale {git.StaleServed}\n{gateway.Log}");
        Assert.Equal(0, git.UpstreamErrors);
        Assert.Contains("from the repository mirror", gateway.Log.ToString(), StringComparison.Ordinal);

        // An advertisement for a protocol the cache holds nothing for comes from the mirror, with http-backend's preamble.
        using var ask = new HttpRequestMessage(HttpMethod.Get, $"/git/{Host}/repo/info/refs?service=git-upload-pack");
        ask.Headers.Add("Git-Protocol", "version=1");
        using var refs = await gateway.Http.SendAsync(ask);
        Assert.Equal(200, (int)refs.StatusCode);
        Assert.Equal("stale", refs.Headers.GetValues("X-Cleanroom-Cache").Single());
        Assert.Equal("application/x-git-upload-pack-advertisement", refs.Content.Headers.ContentType?.MediaType);
        var body = await refs.Content.ReadAsStringAsync();
        Assert.StartsWith("001e# service=git-upload-pack\n0000", body, StringComparison.Ordinal);
        Assert.Contains(_head + " refs/heads/main", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_scope_that_never_fetched_the_repository_gets_upstream_error_and_nothing_of_the_mirror()
    {
        const string Credentials = """{"hosts": {"git.example.test": {"token": "scope-a-token"}}}""";
        await using (var scoped = await StartAsync(credentials: Credentials))
        {
            var (listed, _, listErr) = LsRemote(scoped, "0");
            Assert.True(listed == 0, listErr + scoped.Log);
        }

        await MirrorAsync();
        await _backend.StopAsync();

        // The same cache, but requests without the credential are in the public scope, which never fetched the repository.
        await using (var gateway = await StartAsync())
        {
            var (code, _, _) = Clone(gateway, "2", "refused");
            Assert.NotEqual(0, code);
            Assert.False(Directory.Exists(Path.Combine(_work.Path, "refused", ".git", "objects", "pack"))
                && Directory.EnumerateFiles(Path.Combine(_work.Path, "refused", ".git", "objects", "pack")).Any());

            var advert = await gateway.RawAsync($"/git/{Host}/repo.git/info/refs?service=git-upload-pack");
            Assert.Equal(502, advert.Status);
            Assert.Equal("upstream_error", advert.Headers["X-Cleanroom-Reason-Code"]);

            using var want = new ByteArrayContent(Encoding.ASCII.GetBytes($"0032want {_head}\n00000009done\n"));
            want.Headers.ContentType = new("application/x-git-upload-pack-request");
            using var pack = await gateway.Http.PostAsync($"/git/{Host}/repo.git/git-upload-pack", want);
            Assert.Equal(502, (int)pack.StatusCode);
            Assert.Equal("upstream_error", pack.Headers.GetValues("X-Cleanroom-Reason-Code").Single());
            var answer = await pack.Content.ReadAsStringAsync();
            Assert.DoesNotContain("PACK", answer, StringComparison.Ordinal);

            var git = gateway.Counters("git");
            Assert.Equal(0, git.StaleServed);
            Assert.True(git.UpstreamErrors >= 2);

            // Refused before the mirror was even looked up.
            Assert.Empty(_mirrors.Asked);
        }

        // The scope that fetched it before is answered from the same mirror.
        await using var again = await StartAsync(credentials: Credentials);
        var (ok, _, err) = Clone(again, "2", "allowed");
        Assert.True(ok == 0, err + again.Log);
        Assert.Equal(_head, GitHttpBackendServer.Git(Path.Combine(_work.Path, "allowed"), "rev-parse", "HEAD").Trim());
    }

    [Theory]
    [InlineData("0", "2")]
    [InlineData("2", "0")]
    public async Task The_stores_own_refs_are_not_advertised_from_a_mirror(string protocol, string primedWith)
    {
        // Primed in the other protocol version: the scope may use the mirror, and no cached listing answers instead.
        await using var gateway = await StartAsync();
        Assert.Equal(0, LsRemote(gateway, primedWith).Code);
        var head = await MirrorAsync();
        // What the store keeps for workspaces pinned to a commit (other sandboxes' business, not the repository's).
        GitHttpBackendServer.Git(_store.MirrorPathOf($"https://{Host}/repo.git"), "update-ref", "refs/cleanroom/commits/" + head, head);
        await _backend.StopAsync();

        var (code, listed, err) = LsRemote(gateway, protocol);

        Assert.True(code == 0, err + gateway.Log);
        Assert.Contains("refs/heads/main", listed, StringComparison.Ordinal);
        Assert.DoesNotContain("refs/cleanroom", listed, StringComparison.Ordinal);
        Assert.True(gateway.Counters("git").StaleServed >= 1, gateway.Log.ToString());
        Assert.Contains(_mirrors.Asked, a => a.Found is not null);
    }

    [Fact]
    public async Task An_upstream_answering_5xx_is_stood_in_for_by_the_mirror()
    {
        await using (var primed = await StartAsync())
        {
            var (listed, _, listErr) = LsRemote(primed, "2");
            Assert.True(listed == 0, listErr + primed.Log);
        }

        await MirrorAsync();
        await using var failing = LoopbackHttpServer.Start(context =>
        {
            context.Response.StatusCode = 503;
            return Task.CompletedTask;
        });

        // The same cache, with the host's upstream now answering 503 to everything.
        await using var gateway = await StartAsync(upstream: failing.BaseUri);
        var (code, _, err) = Clone(gateway, "2", "after-5xx");

        Assert.True(code == 0, err + gateway.Log);
        Assert.Equal(_head, GitHttpBackendServer.Git(Path.Combine(_work.Path, "after-5xx"), "rev-parse", "HEAD").Trim());
        Assert.True(failing.Requests.Count >= 2, "the upstream was not asked");
        Assert.Contains("the upstream answered 503", gateway.Log.ToString(), StringComparison.Ordinal);
        Assert.Equal(0, gateway.Counters("git").UpstreamErrors);
    }

    [Fact]
    public async Task A_slow_upstream_is_answered_from_the_mirror_once_the_bound_passes()
    {
        await using var gateway = await StartAsync(fallbackAfter: TimeSpan.FromMilliseconds(300));
        var (listed, _, listErr) = LsRemote(gateway, "0");
        Assert.True(listed == 0, listErr + gateway.Log);
        await MirrorAsync();

        // Every upstream answer is held from now on; the clone (v2: an advertisement the cache has not seen) must not wait for them.
        var arrived = _gate.Hold(1);
        var (code, _, err) = await Task.Run(() => Clone(gateway, "2", "slow"));

        Assert.True(code == 0, err + gateway.Log);
        Assert.True(arrived.IsCompleted, "the clone did not ask the upstream first");
        Assert.Equal(_packsBefore, _backend.PackRequests);
        Assert.Equal(_head, GitHttpBackendServer.Git(Path.Combine(_work.Path, "slow"), "rev-parse", "HEAD").Trim());
        Assert.True(gateway.Counters("git").StaleServed >= 3, gateway.Log.ToString());
        Assert.Contains("no response headers within", gateway.Log.ToString(), StringComparison.Ordinal);
        _gate.Release();
    }

    [Fact]
    public async Task A_mirror_without_the_wanted_commit_is_not_asked_and_the_fetch_fails_as_before()
    {
        await using var gateway = await StartAsync();
        await MirrorAsync();
        var newer = Advance();
        var (listed, _, listErr) = LsRemote(gateway, "0");
        Assert.True(listed == 0, listErr + gateway.Log);
        await _backend.StopAsync();

        // The cached advertisement (stale) names a commit the mirror, fetched earlier, does not have.
        var (code, _, err) = Clone(gateway, "0", "behind");

        Assert.NotEqual(0, code);
        Assert.NotEqual(_head, newer);
        Assert.Contains("lacks objects the request wants", gateway.Log.ToString(), StringComparison.Ordinal);
        Assert.True(gateway.Counters("git").UpstreamErrors >= 1, err);
    }

    [Fact]
    public async Task Without_mirrors_configured_nothing_changes()
    {
        await using var gateway = await StartAsync(mirrors: false);
        var (listed, _, _) = LsRemote(gateway, "2");
        Assert.Equal(0, listed);
        await MirrorAsync();
        await _backend.StopAsync();

        var (code, _, _) = Clone(gateway, "2", "none");

        Assert.NotEqual(0, code);
        Assert.Empty(_mirrors.Asked);
    }

    [Theory]
    [InlineData("/git/git.example.test/%2e%2e/%2e%2e/etc/info/refs?service=git-upload-pack")]
    [InlineData("/git/git.example.test/repo.git/../../../etc/info/refs?service=git-upload-pack")]
    [InlineData("/git/git.example.test/a%5c..%5crepo/info/refs?service=git-upload-pack")]
    [InlineData("/git/git.example.test//repo.git/info/refs?service=git-upload-pack")]
    [InlineData("/git/git.example.test/a%2f..%2f..%2frepo/info/refs?service=git-upload-pack")]
    [InlineData("/git/git.example.test/%00/info/refs?service=git-upload-pack")]
    public async Task A_hostile_path_never_names_a_mirror_outside_the_store(string target)
    {
        await using var gateway = await StartAsync();
        var (listed, _, _) = LsRemote(gateway, "0");
        Assert.Equal(0, listed);
        await MirrorAsync();
        await _backend.StopAsync();

        var (status, _) = await gateway.RawAsync(target);

        // Refused by the route's own checks, or (for a path it accepts) a lookup that can only land in the store.
        Assert.NotEqual(200, status);
        var store = Path.GetFullPath(_store.Options.StoreDirectory);
        foreach (var (path, found) in _mirrors.Asked)
        {
            Assert.DoesNotContain("..", path, StringComparison.Ordinal);
            Assert.True(found is null || Path.GetDirectoryName(Path.GetFullPath(found)) == store, found);
        }
    }

    /// <summary>
    /// Mirrors the repository into the store as <c>exec --repo-url https://git.example.test/repo.git</c> would (its
    /// default branch, which also points the mirror's HEAD at it); returns the commit. The store's fetch is a pack
    /// request of the upstream's own, so the count is reset for the tests' "nothing went upstream" checks.
    /// </summary>
    private async Task<string> MirrorAsync()
    {
        var mirrored = await _store.EnsureAsync($"https://{Host}/repo.git", null, CancellationToken.None);
        _packsBefore = _backend.PackRequests;
        return mirrored.Commit;
    }

    private Task<GatewayHarness> StartAsync(string? credentials = null, TimeSpan? fallbackAfter = null, bool mirrors = true, Uri? upstream = null) =>
        GatewayHarness.StartAsync(
            new Dictionary<string, Uri> { [Host] = upstream ?? _backend.BaseUri },
            "[\"git.example.test:443\"]",
            configure: o => o with
            {
                GitMirrors = mirrors ? _mirrors : null,
                GitMirrorFallbackAfter = fallbackAfter ?? o.GitMirrorFallbackAfter,
            },
            credentials: credentials,
            cacheDirectory: CacheDirectory);

    private (int Code, string Stdout, string Stderr) Clone(GatewayHarness gateway, string protocol, string into) =>
        GitHttpBackendServer.RunGit(
            _work.Path, null, "-c", $"protocol.version={protocol}", "clone", "-q", $"{gateway.BaseUri}git/{Host}/repo.git", into);

    private (int Code, string Stdout, string Stderr) LsRemote(GatewayHarness gateway, string protocol) =>
        GitHttpBackendServer.RunGit(
            _work.Path, null, "-c", $"protocol.version={protocol}", "ls-remote", $"{gateway.BaseUri}git/{Host}/repo.git");

    /// <summary>Adds a commit to the upstream's main; returns it.</summary>
    private string Advance()
    {
        var work = Path.Combine(_work.Path, "advance");
        GitHttpBackendServer.Git(_work.Path, "clone", "-q", Path.Combine(_upstreamRoot.Path, "repo.git"), work);
        File.WriteAllText(Path.Combine(work, "later.txt"), "later\n");
        GitHttpBackendServer.Git(work, "add", ".");
        GitHttpBackendServer.Git(work, "commit", "-q", "-m", "later");
        GitHttpBackendServer.Git(work, "push", "-q", "origin", "main");
        return GitHttpBackendServer.Git(work, "rev-parse", "HEAD").Trim();
    }

    /// <summary>The repository store's mirrors as the daemon offers them, recording every lookup and its answer.</summary>
    private sealed class RecordingMirrors(RepositoryStore store) : IGitMirrors
    {
        private readonly ConcurrentQueue<(string Path, string? Found)> _asked = new();

        public IReadOnlyList<(string Path, string? Found)> Asked => [.. _asked];

        public string? Find(string host, string repositoryPath)
        {
            var found = store.FindMirror("https://" + host + repositoryPath);
            _asked.Enqueue((repositoryPath, found));
            return found;
        }
    }
}
