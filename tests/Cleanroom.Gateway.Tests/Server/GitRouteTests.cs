using Cleanroom.TestSupport;

namespace Cleanroom.Gateway.Tests.Server;

/// <summary>Real <c>git clone</c> through the gateway to a real <c>git http-backend</c> upstream.</summary>
public sealed class GitRouteTests : IAsyncLifetime
{
    private const string Host = "git.example.test";
    private readonly Scratch _upstreamRoot = new();
    private readonly Scratch _work = new();
    private GitHttpBackendServer _backend = null!;
    private string _head = "";

    public Task InitializeAsync()
    {
        _head = GitHttpBackendServer.CreateRepository(_upstreamRoot.Path, "repo.git");
        _backend = GitHttpBackendServer.Start(_upstreamRoot.Path);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _backend.DisposeAsync();
        _upstreamRoot.Dispose();
        _work.Dispose();
    }

    [Theory]
    [InlineData("2")]
    [InlineData("0")]
    public async Task Clone_works_and_the_second_clone_is_served_from_the_cache(string protocol)
    {
        await using var gateway = await StartAsync();

        var (code1, _, err1) = Clone(gateway, protocol, "one");
        Assert.True(code1 == 0, err1 + gateway.Log);
        Assert.Equal(_head, GitHttpBackendServer.Git(Path.Combine(_work.Path, "one"), "rev-parse", "HEAD").Trim());
        Assert.Equal(1, _backend.PackRequests);

        var (code2, _, err2) = Clone(gateway, protocol, "two");
        Assert.True(code2 == 0, err2 + gateway.Log);
        Assert.Equal(_head, GitHttpBackendServer.Git(Path.Combine(_work.Path, "two"), "rev-parse", "HEAD").Trim());

        // Refs went upstream both times; the pack only once.
        Assert.Equal(1, _backend.PackRequests);
        Assert.Equal(2, _backend.InfoRefsRequests);
        var git = gateway.Counters("git");
        Assert.Equal(1, git.Hits);
        Assert.Equal(1, git.Misses);
        Assert.True(git.BytesServed > 0);
        Assert.Empty(gateway.Audit.Refusals);
    }

    [Fact]
    public async Task A_private_repository_needs_the_credential_from_the_credentials_file()
    {
        await _backend.StopAsync();
        _backend = GitHttpBackendServer.Start(_upstreamRoot.Path, GitHttpBackendServer.Bearer("s3cret-token"));

        await using (var without = await StartAsync())
        {
            var (code, _, _) = Clone(without, "2", "denied");
            Assert.NotEqual(0, code);
            Assert.True(_backend.UnauthorizedRequests > 0);
        }

        await using var gateway = await StartAsync(credentials: """{"hosts": {"git.example.test": {"token": "s3cret-token"}}}""");
        var (ok, _, err) = Clone(gateway, "2", "private");
        Assert.True(ok == 0, err + gateway.Log);
        Assert.Equal(_head, GitHttpBackendServer.Git(Path.Combine(_work.Path, "private"), "rev-parse", "HEAD").Trim());
        Assert.Contains(_backend.Requests, r => r.Header("Authorization") == "Bearer s3cret-token");
    }

    [Fact]
    public async Task A_host_the_policy_does_not_allow_is_refused_and_audited()
    {
        await using var gateway = await StartAsync(allow: "[\"files.example.test:443\"]");

        var (code, _, _) = Clone(gateway, "2", "nope");
        Assert.NotEqual(0, code);
        using var response = await gateway.Http.GetAsync($"/git/{Host}/repo.git/info/refs?service=git-upload-pack");
        Assert.Equal(403, (int)response.StatusCode);
        Assert.Equal("host_not_allowed", response.Headers.GetValues("X-Cleanroom-Reason-Code").Single());
        Assert.Equal(0, _backend.InfoRefsRequests);
        // The clone's request and this one.
        var refusals = gateway.Audit.Refusals.Where(r => r.Path.Contains("info/refs", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, refusals.Count);
        var refusal = refusals[^1];
        Assert.Equal("host_not_allowed", refusal.Reason);
        Assert.Equal(GatewayHarness.SandboxId, refusal.SandboxId);
        Assert.Equal("git", refusal.Route);
        Assert.Equal(Host, refusal.Host);
    }

    [Fact]
    public async Task Push_is_refused()
    {
        await using var gateway = await StartAsync();
        var (cloned, _, err) = Clone(gateway, "2", "pusher");
        Assert.True(cloned == 0, err + gateway.Log);
        var repo = Path.Combine(_work.Path, "pusher");
        File.WriteAllText(Path.Combine(repo, "new.txt"), "new\n");
        GitHttpBackendServer.Git(repo, "add", ".");
        GitHttpBackendServer.Git(repo, "commit", "-q", "-m", "new");

        var (code, _, _) = GitHttpBackendServer.RunGit(repo, null, "push", "origin", "main");
        Assert.NotEqual(0, code);
        Assert.Equal(0, _backend.ReceivePackRequests);

        using var advert = await gateway.Http.GetAsync($"/git/{Host}/repo.git/info/refs?service=git-receive-pack");
        Assert.Equal(403, (int)advert.StatusCode);
        Assert.Equal("method_not_allowed", advert.Headers.GetValues("X-Cleanroom-Reason-Code").Single());
        using var post = await gateway.Http.PostAsync($"/git/{Host}/repo.git/git-receive-pack", new ByteArrayContent([]));
        Assert.Equal(403, (int)post.StatusCode);
        Assert.Equal("method_not_allowed", post.Headers.GetValues("X-Cleanroom-Reason-Code").Single());
        Assert.Equal(0, _backend.ReceivePackRequests);
    }

    [Theory]
    [InlineData("2")]
    [InlineData("0")]
    public async Task A_warm_cache_serves_clones_while_the_upstream_is_down(string protocol)
    {
        await using var gateway = await StartAsync();
        var (code1, _, err1) = Clone(gateway, protocol, "warm");
        Assert.True(code1 == 0, err1 + gateway.Log);

        await _backend.StopAsync();
        var (code2, _, err2) = Clone(gateway, protocol, "cold");
        Assert.True(code2 == 0, err2 + gateway.Log);
        Assert.Equal(_head, GitHttpBackendServer.Git(Path.Combine(_work.Path, "cold"), "rev-parse", "HEAD").Trim());
        Assert.True(gateway.Counters("git").StaleServed > 0);

        using var ask = new HttpRequestMessage(HttpMethod.Get, $"/git/{Host}/repo.git/info/refs?service=git-upload-pack");
        if (protocol == "2")
        {
            // The same Git-Protocol as the clone's: refs are kept per protocol version.
            ask.Headers.Add("Git-Protocol", "version=2");
        }

        using var refs = await gateway.Http.SendAsync(ask);
        Assert.Equal(200, (int)refs.StatusCode);
        Assert.Equal("stale", refs.Headers.GetValues("X-Cleanroom-Cache").Single());
    }

    [Fact]
    public async Task A_cold_cache_with_the_upstream_down_answers_upstream_error()
    {
        await using var gateway = await StartAsync();
        await _backend.StopAsync();
        using var refs = await gateway.Http.GetAsync($"/git/{Host}/repo.git/info/refs?service=git-upload-pack");
        Assert.Equal(502, (int)refs.StatusCode);
        Assert.Equal("upstream_error", refs.Headers.GetValues("X-Cleanroom-Reason-Code").Single());
        Assert.Equal(1, gateway.Counters("git").UpstreamErrors);
    }

    [Fact]
    public async Task A_gzip_request_body_is_inflated_before_it_is_keyed_and_forwarded()
    {
        await using var gateway = await StartAsync();
        var (code, _, err) = Clone(gateway, "0", "plain");
        Assert.True(code == 0, err + gateway.Log);
        var want = $"0032want {_head}\n00000009done\n";
        using var compressed = new MemoryStream();
        await using (var gzip = new System.IO.Compression.GZipStream(compressed, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
        {
            await gzip.WriteAsync(System.Text.Encoding.ASCII.GetBytes(want));
        }

        async Task<(string Cache, byte[] Body)> PostAsync(byte[] body, bool gzipped)
        {
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new("application/x-git-upload-pack-request");
            if (gzipped)
            {
                content.Headers.ContentEncoding.Add("gzip");
            }

            using var response = await gateway.Http.PostAsync($"/git/{Host}/repo.git/git-upload-pack", content);
            Assert.Equal(200, (int)response.StatusCode);
            return (response.Headers.GetValues("X-Cleanroom-Cache").Single(), await response.Content.ReadAsByteArrayAsync());
        }

        var before = _backend.PackRequests;
        var plain = await PostAsync(System.Text.Encoding.ASCII.GetBytes(want), gzipped: false);
        var zipped = await PostAsync(compressed.ToArray(), gzipped: true);
        Assert.Equal("miss", plain.Cache);
        Assert.Equal("hit", zipped.Cache);
        Assert.Equal(plain.Body, zipped.Body);
        Assert.Equal(before + 1, _backend.PackRequests);
    }

    private Task<GatewayHarness> StartAsync(string allow = "[\"git.example.test:443\"]", string? credentials = null) =>
        GatewayHarness.StartAsync(new Dictionary<string, Uri> { [Host] = _backend.BaseUri }, allow, credentials: credentials);

    private (int Code, string Stdout, string Stderr) Clone(GatewayHarness gateway, string protocol, string into) =>
        GitHttpBackendServer.RunGit(
            _work.Path, null, "-c", $"protocol.version={protocol}", "clone", "-q", $"{gateway.BaseUri}git/{Host}/repo.git", into);
}
