using System.Security.Cryptography;

namespace Cleanroom.Gateway.Tests.Server;

/// <summary>The /fetch/ route against a real loopback upstream: caching, single-flight, pinning, corruption, redirects.</summary>
public sealed class FetchRouteTests : IAsyncLifetime
{
    private const string Host = "files.example.test";
    private const string Cdn = "cdn.example.test";
    private readonly FileServer _files = new();
    private readonly FileServer _cdn = new();
    private readonly byte[] _tool = RandomNumberGenerator.GetBytes(300_000);

    public Task InitializeAsync()
    {
        _files.Add("/tool-1.0.tar.gz", _tool);
        _cdn.Add("/blob/tool", _tool);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _files.DisposeAsync();
        await _cdn.DisposeAsync();
    }

    [Fact]
    public async Task A_download_is_fetched_once_and_then_served_from_the_cache()
    {
        await using var gateway = await StartAsync();
        using var first = await gateway.Http.GetAsync($"/fetch/{Host}/tool-1.0.tar.gz");
        Assert.Equal(200, (int)first.StatusCode);
        Assert.Equal("miss", first.Headers.GetValues("X-Cleanroom-Cache").Single());
        Assert.Equal(_tool, await first.Content.ReadAsByteArrayAsync());

        using var second = await gateway.Http.GetAsync($"/fetch/{Host}/tool-1.0.tar.gz");
        Assert.Equal("hit", second.Headers.GetValues("X-Cleanroom-Cache").Single());
        Assert.Equal(_tool, await second.Content.ReadAsByteArrayAsync());
        Assert.Single(_files.Requests);

        using var head = await gateway.Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/fetch/{Host}/tool-1.0.tar.gz"));
        Assert.Equal(200, (int)head.StatusCode);
        Assert.Equal(_tool.Length, head.Content.Headers.ContentLength);

        var counters = gateway.Counters("fetch");
        Assert.Equal(1, counters.Misses);
        Assert.Equal(2, counters.Hits);
        Assert.Equal(2L * _tool.Length, counters.BytesServed);
    }

    [Fact]
    public async Task A_hundred_concurrent_misses_make_exactly_one_upstream_request()
    {
        await using var gateway = await StartAsync(o => o with { MaxConcurrentRequestsPerSandbox = 200 });
        var arrived = _files.Hold(1);
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 200 }) { BaseAddress = gateway.BaseUri };
        var requests = Enumerable.Range(0, 100).Select(_ => client.GetByteArrayAsync($"/fetch/{Host}/tool-1.0.tar.gz")).ToList();
        await arrived.WaitAsync(TimeSpan.FromSeconds(30));
        await WaitUntilAsync(() => gateway.Server.RequestsInFlight == 100);
        _files.Release();

        foreach (var body in await Task.WhenAll(requests))
        {
            Assert.Equal(_tool, body);
        }

        Assert.Single(_files.Requests);
    }

    [Fact]
    public async Task A_corrupted_cached_blob_fails_the_response_and_is_fetched_again()
    {
        await using var gateway = await StartAsync();
        Assert.Equal(_tool, await gateway.Http.GetByteArrayAsync($"/fetch/{Host}/tool-1.0.tar.gz"));
        var hex = Convert.ToHexStringLower(SHA256.HashData(_tool));
        var blob = Path.Combine(gateway.Root, "cache", "blobs", hex[..2], hex);
        File.SetUnixFileMode(blob, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await using (var file = new FileStream(blob, FileMode.Open, FileAccess.ReadWrite))
        {
            file.Position = _tool.Length - 10;
            file.WriteByte((byte)(_tool[^10] ^ 0xff));
        }

        await Assert.ThrowsAnyAsync<HttpRequestException>(() => gateway.Http.GetByteArrayAsync($"/fetch/{Host}/tool-1.0.tar.gz"));
        Assert.Single(_files.Requests);

        using var again = await gateway.Http.GetAsync($"/fetch/{Host}/tool-1.0.tar.gz");
        Assert.Equal("miss", again.Headers.GetValues("X-Cleanroom-Cache").Single());
        Assert.Equal(_tool, await again.Content.ReadAsByteArrayAsync());
        Assert.Equal(2, _files.Requests.Count);
    }

    [Theory]
    [InlineData(1_000, 500)]
    [InlineData(262_144, 262_143)]
    [InlineData(1_000_013, 100)]
    [InlineData(1_000_013, 1_000_000)]
    public async Task A_cached_blob_of_any_size_is_served_whole_and_never_complete_once_corrupted(int size, int corruptAt)
    {
        // One buffer, exactly one buffer, and several (where sends overlap the reads): the last bytes must still wait
        // for the verdict, whichever buffer the damage is in.
        var body = RandomNumberGenerator.GetBytes(size);
        _files.Add("/sized.bin", body);
        await using var gateway = await StartAsync();
        Assert.Equal(body, await gateway.Http.GetByteArrayAsync($"/fetch/{Host}/sized.bin"));
        using (var hit = await gateway.Http.GetAsync($"/fetch/{Host}/sized.bin"))
        {
            Assert.Equal("hit", hit.Headers.GetValues("X-Cleanroom-Cache").Single());
            Assert.Equal(body, await hit.Content.ReadAsByteArrayAsync());
        }

        var hex = Convert.ToHexStringLower(SHA256.HashData(body));
        var blob = Path.Combine(gateway.Root, "cache", "blobs", hex[..2], hex);
        File.SetUnixFileMode(blob, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await using (var file = new FileStream(blob, FileMode.Open, FileAccess.ReadWrite))
        {
            file.Position = corruptAt;
            file.WriteByte((byte)(body[corruptAt] ^ 0xff));
        }

        await Assert.ThrowsAnyAsync<HttpRequestException>(() => gateway.Http.GetByteArrayAsync($"/fetch/{Host}/sized.bin"));
        Assert.False(File.Exists(blob));
        using var again = await gateway.Http.GetAsync($"/fetch/{Host}/sized.bin");
        Assert.Equal("miss", again.Headers.GetValues("X-Cleanroom-Cache").Single());
        Assert.Equal(body, await again.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task A_pinned_download_must_match_its_digest_and_a_mismatch_caches_nothing()
    {
        await using var gateway = await StartAsync();
        var wrong = new string('0', 64);
        using var bad = await gateway.Http.GetAsync($"/fetch/sha256:{wrong}/{Host}/tool-1.0.tar.gz");
        Assert.Equal(502, (int)bad.StatusCode);
        Assert.Equal("digest_mismatch", bad.Headers.GetValues("X-Cleanroom-Reason-Code").Single());
        Assert.Equal(0, gateway.Cache.BlobCount);

        var right = Convert.ToHexStringLower(SHA256.HashData(_tool));
        using var good = await gateway.Http.GetAsync($"/fetch/sha256:{right}/{Host}/tool-1.0.tar.gz");
        Assert.Equal(200, (int)good.StatusCode);
        Assert.Equal(_tool, await good.Content.ReadAsByteArrayAsync());
        using var hit = await gateway.Http.GetAsync($"/fetch/sha256:{right}/{Host}/tool-1.0.tar.gz");
        Assert.Equal("hit", hit.Headers.GetValues("X-Cleanroom-Cache").Single());
        Assert.Equal(2, _files.Requests.Count);
    }

    [Fact]
    public async Task An_upstream_404_is_passed_on_and_not_cached()
    {
        await using var gateway = await StartAsync();
        for (var i = 0; i < 2; i++)
        {
            using var missing = await gateway.Http.GetAsync($"/fetch/{Host}/nothing-here");
            Assert.Equal(404, (int)missing.StatusCode);
            Assert.Equal("bypass", missing.Headers.GetValues("X-Cleanroom-Cache").Single());
        }

        Assert.Equal(2, _files.Requests.Count);
    }

    [Fact]
    public async Task Redirects_are_followed_only_into_allowed_hosts_and_credentials_stay_with_their_host()
    {
        _files.Redirect("/moved", new Uri(_cdn.BaseUri, "/blob/tool").ToString());
        await using (var gateway = await StartAsync(
            credentials: """{"hosts": {"files.example.test": {"username": "me", "password": "pw"}}}""",
            allow: $"[\"{Host}:443\", \"{Cdn}:443\"]"))
        {
            Assert.Equal(_tool, await gateway.Http.GetByteArrayAsync($"/fetch/{Host}/moved"));
            Assert.NotNull(_files.Requests[^1].Header("Authorization"));
            Assert.Null(_cdn.Requests[^1].Header("Authorization"));
        }

        _files.Redirect("/moved-away", new Uri(_cdn.BaseUri, "/blob/tool").ToString());
        await using var strict = await StartAsync(allow: $"[\"{Host}:443\"]");
        var before = _cdn.Requests.Count;
        using var refused = await strict.Http.GetAsync($"/fetch/{Host}/moved-away");
        Assert.Equal(403, (int)refused.StatusCode);
        Assert.Equal("host_not_allowed", refused.Headers.GetValues("X-Cleanroom-Reason-Code").Single());
        Assert.Equal(before, _cdn.Requests.Count);
        Assert.Contains(strict.Audit.Refusals, r => r.Reason == "host_not_allowed" && r.Host == Host);
    }

    [Fact]
    public async Task An_object_fetched_with_a_credential_is_not_served_to_requests_without_it()
    {
        await using var withCredential = await StartAsync(credentials: """{"hosts": {"files.example.test": {"token": "t0k"}}}""");
        Assert.Equal(_tool, await withCredential.Http.GetByteArrayAsync($"/fetch/{Host}/tool-1.0.tar.gz"));
        Assert.Equal("Bearer t0k", _files.Requests[^1].Header("Authorization"));

        // A second gateway on the same cache without the credential: the stored object is in another scope.
        var options = new Cleanroom.Gateway.Server.GatewayOptions
        {
            ListenEndpoints = [new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0)],
            Upstreams = new Dictionary<string, Uri> { [Host] = _files.BaseUri },
        };
        var client = new Cleanroom.Gateway.Server.GatewayClient(GatewayHarness.SandboxId, GatewayHarness.Policy($"[\"{Host}:443\"]"), AllowAll: false);
        await using var without = await Cleanroom.Gateway.Server.GatewayServer.StartAsync(
            options, withCredential.Cache, new GatewayHarness.LoopbackClients(client), new RecordingAudit(),
            Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance, CancellationToken.None);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{without.Endpoints[0].Port}/") };
        using var response = await http.GetAsync($"/fetch/{Host}/tool-1.0.tar.gz");
        Assert.Equal("miss", response.Headers.GetValues("X-Cleanroom-Cache").Single());
        Assert.Equal(2, _files.Requests.Count);
        Assert.Null(_files.Requests[^1].Header("Authorization"));
    }

    [Fact]
    public async Task Headers_a_guest_sends_are_not_passed_upstream()
    {
        await using var gateway = await StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/fetch/{Host}/tool-1.0.tar.gz");
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer guest-made-this-up");
        request.Headers.TryAddWithoutValidation("Cookie", "a=b");
        request.Headers.TryAddWithoutValidation("X-Forwarded-For", "10.0.0.1");
        using var response = await gateway.Http.SendAsync(request);
        Assert.Equal(200, (int)response.StatusCode);
        var seen = Assert.Single(_files.Requests);
        Assert.Null(seen.Header("Authorization"));
        Assert.Null(seen.Header("Cookie"));
        Assert.Null(seen.Header("X-Forwarded-For"));
    }

    [Fact]
    public async Task A_cached_answer_that_came_through_a_redirect_is_refused_to_a_sandbox_whose_policy_forbids_that_host()
    {
        _files.Redirect("/via-cdn", new Uri(_cdn.BaseUri, "/blob/tool").ToString());
        await using var lenient = await StartAsync(allow: $"[\"{Host}:443\", \"{Cdn}:443\"]");
        Assert.Equal(_tool, await lenient.Http.GetByteArrayAsync($"/fetch/{Host}/via-cdn"));
        using (var hit = await lenient.Http.GetAsync($"/fetch/{Host}/via-cdn"))
        {
            Assert.Equal("hit", hit.Headers.GetValues("X-Cleanroom-Cache").Single());
        }

        // Another sandbox on the same cache, allowed the first host only.
        var options = new Cleanroom.Gateway.Server.GatewayOptions
        {
            ListenEndpoints = [new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0)],
            Upstreams = new Dictionary<string, Uri> { [Host] = _files.BaseUri, [Cdn] = _cdn.BaseUri },
        };
        var client = new Cleanroom.Gateway.Server.GatewayClient("sbx-strict", GatewayHarness.Policy($"[\"{Host}:443\"]"), AllowAll: false);
        await using var strict = await Cleanroom.Gateway.Server.GatewayServer.StartAsync(
            options, lenient.Cache, new GatewayHarness.LoopbackClients(client), new RecordingAudit(),
            Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance, CancellationToken.None);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{strict.Endpoints[0].Port}/") };
        var upstreamBefore = _files.Requests.Count + _cdn.Requests.Count;
        using var refused = await http.GetAsync($"/fetch/{Host}/via-cdn");
        Assert.Equal(403, (int)refused.StatusCode);
        Assert.Equal("host_not_allowed", refused.Headers.GetValues("X-Cleanroom-Reason-Code").Single());
        Assert.Equal(upstreamBefore, _files.Requests.Count + _cdn.Requests.Count);

        // A plain download on the same cache is still served to it.
        Assert.Equal(_tool, await http.GetByteArrayAsync($"/fetch/{Host}/tool-1.0.tar.gz"));
    }

    [Fact]
    public async Task Disposing_waits_for_requests_in_flight_and_then_refuses_connections()
    {
        await using var gateway = await StartAsync();
        var held = _files.Hold(1);
        var request = gateway.Http.GetAsync($"/fetch/{Host}/tool-1.0.tar.gz");
        await held.WaitAsync(TimeSpan.FromSeconds(30));

        var disposing = gateway.Server.DisposeAsync().AsTask();
        Assert.False(disposing.IsCompleted);
        _files.Release();
        using (var response = await request)
        {
            Assert.Equal(200, (int)response.StatusCode);
            Assert.Equal(_tool, await response.Content.ReadAsByteArrayAsync());
        }

        await disposing.WaitAsync(TimeSpan.FromSeconds(30));
        using var fresh = new HttpClient { BaseAddress = gateway.BaseUri };
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => fresh.GetAsync("/healthz"));
    }

    [Fact]
    public async Task A_redirect_loop_ends_in_upstream_error()
    {
        _files.Redirect("/loop", new Uri(_files.BaseUri, "/loop").ToString());
        await using var gateway = await StartAsync();
        using var response = await gateway.Http.GetAsync($"/fetch/{Host}/loop");
        Assert.Equal(502, (int)response.StatusCode);
        Assert.Equal("upstream_error", response.Headers.GetValues("X-Cleanroom-Reason-Code").Single());
        Assert.Equal(6, _files.Requests.Count);
    }

    [Fact]
    public async Task Other_routes_answer_honestly()
    {
        await using var gateway = await StartAsync();
        using var health = await gateway.Http.GetAsync("/healthz");
        Assert.Equal(200, (int)health.StatusCode);
        using var unknown = await gateway.Http.GetAsync("/nothing/here");
        Assert.Equal(404, (int)unknown.StatusCode);
        Assert.Equal("route_not_found", unknown.Headers.GetValues("X-Cleanroom-Reason-Code").Single());
        using var post = await gateway.Http.PostAsync($"/fetch/{Host}/tool-1.0.tar.gz", new ByteArrayContent([]));
        Assert.Equal("method_not_allowed", post.Headers.GetValues("X-Cleanroom-Reason-Code").Single());
        Assert.Empty(_files.Requests);

        // The gateway runs inside the daemon: its host must not install the console lifetime (which takes SIGTERM).
        Assert.DoesNotContain(gateway.Log.Lines, line => line.Contains("Ctrl+C", StringComparison.Ordinal));
        Assert.Contains(gateway.Log.Lines, line => line.Contains("refused 404 route_not_found", StringComparison.Ordinal));
    }

    internal static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!condition())
        {
            // Polls a condition the server exposes (no event to wait on); bounded by the deadline.
            await Task.Delay(5, deadline.Token);
        }
    }

    private Task<GatewayHarness> StartAsync(
        Func<Cleanroom.Gateway.Server.GatewayOptions, Cleanroom.Gateway.Server.GatewayOptions>? configure = null,
        string? credentials = null,
        string allow = "[\"files.example.test:443\"]") =>
        GatewayHarness.StartAsync(
            new Dictionary<string, Uri> { [Host] = _files.BaseUri, [Cdn] = _cdn.BaseUri }, allow, configure, credentials: credentials);
}
