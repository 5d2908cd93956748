using System.Text.Json;
using Cleanroom.Gateway.Tests.Server;

namespace Cleanroom.Gateway.Tests.PyPi;

/// <summary>The /pypi/ route against a static index on loopback: pages, rewritten links, files, TTL, stale, refusals.</summary>
public sealed class PyPiRouteTests : IAsyncLifetime
{
    private const string Allow = "[\"pypi.org:443\", \"files.pythonhosted.org:443\"]";
    private const string JsonAccept = "application/vnd.pypi.simple.v1+json";
    private readonly PyPiIndex _index = new();
    private readonly ManualTimeProvider _clock = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _index.DisposeAsync();

    [Fact]
    public async Task A_project_page_is_fetched_once_its_file_links_point_at_the_gateway_and_the_file_is_cached()
    {
        await using var gateway = await StartAsync();
        using var first = await gateway.Http.GetAsync($"/pypi/pypi.org/simple/{PyPiIndex.Project}/");
        Assert.Equal(200, (int)first.StatusCode);
        Assert.Equal("miss", first.Headers.GetValues("X-Cleanroom-Cache").Single());
        Assert.Equal("text/html; charset=utf-8", first.Content.Headers.ContentType!.ToString());
        var html = await first.Content.ReadAsStringAsync();
        var link = $"/pypi/sha256:{_index.Sha256}/files.pythonhosted.org{_index.FilePath}#sha256={_index.Sha256}";
        Assert.Contains($"<a href=\"{link}\" data-requires-python=\"&gt;=3.7\">", html, StringComparison.Ordinal);
        Assert.DoesNotContain("https://", html, StringComparison.Ordinal);

        using var second = await gateway.Http.GetAsync($"/pypi/pypi.org/simple/{PyPiIndex.Project}/");
        Assert.Equal("hit", second.Headers.GetValues("X-Cleanroom-Cache").Single());
        Assert.Equal(html, await second.Content.ReadAsStringAsync());
        Assert.Equal(1, _index.Server.Count("/simple/"));

        for (var i = 0; i < 2; i++)
        {
            using var file = await gateway.Http.GetAsync(link.Split('#')[0]);
            Assert.Equal(200, (int)file.StatusCode);
            Assert.Equal(i == 0 ? "miss" : "hit", file.Headers.GetValues("X-Cleanroom-Cache").Single());
            Assert.Equal(_index.Wheel, await file.Content.ReadAsByteArrayAsync());
        }

        Assert.Equal(1, _index.Server.Count("/packages/"));
        var counters = gateway.Counters("pypi");
        Assert.Equal(2, counters.Misses);
        Assert.Equal(2, counters.Hits);
    }

    [Fact]
    public async Task The_accept_header_picks_the_json_variant_which_is_cached_apart_and_rewritten()
    {
        await using var gateway = await StartAsync();
        using var html = await gateway.Http.GetAsync($"/pypi/pypi.org/simple/{PyPiIndex.Project}/");
        Assert.Equal(200, (int)html.StatusCode);

        using var ask = new HttpRequestMessage(HttpMethod.Get, $"/pypi/pypi.org/simple/{PyPiIndex.Project}/");
        ask.Headers.TryAddWithoutValidation("Accept", JsonAccept);
        using var json = await gateway.Http.SendAsync(ask);
        Assert.Equal(200, (int)json.StatusCode);
        Assert.Equal("miss", json.Headers.GetValues("X-Cleanroom-Cache").Single());
        Assert.Equal(JsonAccept, json.Content.Headers.ContentType!.MediaType);
        using var document = JsonDocument.Parse(await json.Content.ReadAsStringAsync());
        var file = document.RootElement.GetProperty("files")[0];
        Assert.Equal($"/pypi/sha256:{_index.Sha256}/files.pythonhosted.org{_index.FilePath}", file.GetProperty("url").GetString());
        Assert.Equal(_index.Sha256, file.GetProperty("hashes").GetProperty("sha256").GetString());
        Assert.Equal(">=3.7", file.GetProperty("requires-python").GetString());
        Assert.Equal(JsonAccept, _index.Server.Requests[^1].Header("Accept"));
        Assert.Equal(2, _index.Server.Count("/simple/"));
    }

    [Fact]
    public async Task Pages_expire_after_the_metadata_ttl_and_are_served_stale_while_the_upstream_is_down()
    {
        await using var gateway = await StartAsync();
        var page = $"/pypi/pypi.org/simple/{PyPiIndex.Project}/";
        Assert.Equal(200, (int)(await gateway.Http.GetAsync(page)).StatusCode);
        _clock.Advance(TimeSpan.FromMinutes(4));
        using (var fresh = await gateway.Http.GetAsync(page))
        {
            Assert.Equal("hit", fresh.Headers.GetValues("X-Cleanroom-Cache").Single());
        }

        _clock.Advance(TimeSpan.FromMinutes(2));
        using (var refreshed = await gateway.Http.GetAsync(page))
        {
            Assert.Equal("miss", refreshed.Headers.GetValues("X-Cleanroom-Cache").Single());
        }

        Assert.Equal(2, _index.Server.Count("/simple/"));
        Assert.Equal(200, (int)(await gateway.Http.GetAsync($"/pypi/files.pythonhosted.org{_index.FilePath}")).StatusCode);

        _clock.Advance(TimeSpan.FromMinutes(6));
        await _index.Server.StopAsync();
        using var stale = await gateway.Http.GetAsync(page);
        Assert.Equal(200, (int)stale.StatusCode);
        Assert.Equal("stale", stale.Headers.GetValues("X-Cleanroom-Cache").Single());
        Assert.Contains(_index.FileName, await stale.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // Files are immutable: served from the cache however old, without asking the (dead) upstream.
        using var file = await gateway.Http.GetAsync($"/pypi/files.pythonhosted.org{_index.FilePath}");
        Assert.Equal("hit", file.Headers.GetValues("X-Cleanroom-Cache").Single());

        using var cold = await gateway.Http.GetAsync("/pypi/pypi.org/simple/other/");
        Assert.Equal(502, (int)cold.StatusCode);
        Assert.Equal("upstream_error", cold.Headers.GetValues("X-Cleanroom-Reason-Code").Single());
    }

    [Fact]
    public async Task A_hundred_concurrent_misses_make_exactly_one_upstream_request()
    {
        await using var gateway = await StartAsync(o => o with { MaxConcurrentRequestsPerSandbox = 200 });
        var arrived = _index.Server.Hold(1);
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 200 }) { BaseAddress = gateway.BaseUri };
        var requests = Enumerable.Range(0, 100).Select(_ => client.GetStringAsync($"/pypi/pypi.org/simple/{PyPiIndex.Project}/")).ToList();
        await arrived.WaitAsync(TimeSpan.FromSeconds(30));
        await FetchRouteTests.WaitUntilAsync(() => gateway.Server.RequestsInFlight == 100);
        _index.Server.Release();

        var bodies = await Task.WhenAll(requests);
        Assert.All(bodies, body => Assert.Contains("/files.pythonhosted.org/packages/", body, StringComparison.Ordinal));
        Assert.Single(_index.Server.Requests);
    }

    [Fact]
    public async Task An_upstream_404_is_passed_on_and_not_cached()
    {
        await using var gateway = await StartAsync();
        for (var i = 0; i < 2; i++)
        {
            using var missing = await gateway.Http.GetAsync("/pypi/pypi.org/simple/no-such-project/");
            Assert.Equal(404, (int)missing.StatusCode);
            Assert.Equal("bypass", missing.Headers.GetValues("X-Cleanroom-Cache").Single());
            using var file = await gateway.Http.GetAsync("/pypi/files.pythonhosted.org/packages/no/such-1.0.tar.gz");
            Assert.Equal(404, (int)file.StatusCode);
        }

        Assert.Equal(4, _index.Server.Requests.Count);
    }

    [Fact]
    public async Task Other_spellings_of_a_project_are_redirected_to_its_normalised_page()
    {
        await using var gateway = await StartAsync();
        foreach (var (asked, canonical) in new[]
        {
            ("/pypi/pypi.org/simple/Tiny_Pkg/", "/pypi/pypi.org/simple/tiny-pkg/"),
            ("/pypi/pypi.org/simple/tiny.-_pkg", "/pypi/pypi.org/simple/tiny-pkg/"),
            ("/pypi/pypi.org/simple/tiny-pkg", "/pypi/pypi.org/simple/tiny-pkg/"),
            ("/pypi/pypi.org/simple", "/pypi/pypi.org/simple/"),
        })
        {
            using var response = await gateway.Http.GetAsync(asked);
            Assert.Equal(301, (int)response.StatusCode);
            Assert.Equal(canonical, response.Headers.Location!.OriginalString);
        }

        Assert.Empty(_index.Server.Requests);
        using var root = await gateway.Http.GetAsync("/pypi/pypi.org/simple/");
        Assert.Contains("<a href=\"/pypi/pypi.org/simple/tiny-pkg/\">", await root.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Hosts_the_policy_does_not_allow_are_refused_before_anything_is_fetched()
    {
        await using var gateway = await StartAsync(allow: "[\"pypi.org:443\"]");
        using var file = await gateway.Http.GetAsync($"/pypi/files.pythonhosted.org{_index.FilePath}");
        Assert.Equal(403, (int)file.StatusCode);
        Assert.Equal("host_not_allowed", file.Headers.GetValues("X-Cleanroom-Reason-Code").Single());
        using var other = await gateway.Http.GetAsync("/pypi/evil.example.test/simple/x/");
        Assert.Equal(403, (int)other.StatusCode);
        Assert.Empty(_index.Server.Requests);
        Assert.Contains(gateway.Audit.Refusals, r => r.Route == "pypi" && r.Host == "files.pythonhosted.org" && r.Reason == "host_not_allowed");
        Assert.Equal(2, gateway.Counters("pypi").Refused);
    }

    [Theory]
    [InlineData("/pypi/pypi.org/simple/bad%20name/", 400, "invalid_request")]
    [InlineData("/pypi/pypi.org/simple/-dash-/", 400, "invalid_request")]
    [InlineData("/pypi/pypi.org/simple/a%2fb/", 400, "invalid_request")]
    [InlineData("/pypi/pypi.org/simple/x/?page=2", 400, "invalid_request")]
    [InlineData("/pypi/127.0.0.1/simple/x/", 400, "invalid_request")]
    [InlineData("/pypi/pypi.org:8443/simple/x/", 400, "invalid_request")]
    [InlineData("/pypi/user@pypi.org/simple/x/", 400, "invalid_request")]
    [InlineData("/pypi/pypi.org%2fevil/simple/x/", 400, "invalid_request")]
    [InlineData("/pypi/pypi.org/simple/%2e%2e/x/", 400, "invalid_request")]
    [InlineData("/pypi/pypi.org/", 400, "invalid_request")]
    [InlineData("/pypi/", 400, "invalid_request")]
    [InlineData("/pypi/pypi.org/pypi/x/json", 404, "route_not_found")]
    [InlineData("/pypi/pypi.org/simple/x/y/", 404, "route_not_found")]
    public async Task Hostile_or_unknown_paths_are_refused(string target, int status, string reason)
    {
        await using var gateway = await StartAsync();
        var (code, headers) = await gateway.RawAsync(target);
        Assert.Equal(status, code);
        Assert.Equal(reason, headers["X-Cleanroom-Reason-Code"]);
        Assert.Empty(_index.Server.Requests);
    }

    [Fact]
    public async Task A_pinned_file_must_match_its_digest_and_its_metadata_sibling_is_not_held_to_it()
    {
        var metadata = "Metadata-Version: 2.1\nName: tiny-pkg\nVersion: 1.0\n"u8.ToArray();
        _index.Server.Add(_index.FilePath + ".metadata", "application/octet-stream", metadata);
        await using var gateway = await StartAsync();
        var wrong = new string('0', 64);
        using (var bad = await gateway.Http.GetAsync($"/pypi/sha256:{wrong}/files.pythonhosted.org{_index.FilePath}"))
        {
            Assert.Equal(502, (int)bad.StatusCode);
            Assert.Equal("digest_mismatch", bad.Headers.GetValues("X-Cleanroom-Reason-Code").Single());
        }

        Assert.Equal(0, gateway.Cache.BlobCount);
        var pinned = $"/pypi/sha256:{_index.Sha256}/files.pythonhosted.org{_index.FilePath}";
        Assert.Equal(_index.Wheel, await gateway.Http.GetByteArrayAsync(pinned));
        using (var hit = await gateway.Http.GetAsync(pinned))
        {
            Assert.Equal("hit", hit.Headers.GetValues("X-Cleanroom-Cache").Single());
        }

        Assert.Equal(metadata, await gateway.Http.GetByteArrayAsync(pinned + ".metadata"));
        Assert.Equal(2, _index.Server.Requests.Count(r => r.PathAndQuery == _index.FilePath));
        Assert.Equal(1, _index.Server.Count(_index.FilePath + ".metadata"));

        var (code, headers) = await gateway.RawAsync($"/pypi/sha256:{_index.Sha256}/pypi.org/simple/{PyPiIndex.Project}/");
        Assert.Equal(404, code);
        Assert.Equal("route_not_found", headers["X-Cleanroom-Reason-Code"]);
        (code, headers) = await gateway.RawAsync($"/pypi/sha256:abc/files.pythonhosted.org{_index.FilePath}");
        Assert.Equal(400, code);
        Assert.Equal("invalid_request", headers["X-Cleanroom-Reason-Code"]);
    }

    [Fact]
    public async Task Only_get_and_head_are_served()
    {
        await using var gateway = await StartAsync();
        using var post = await gateway.Http.PostAsync($"/pypi/pypi.org/simple/{PyPiIndex.Project}/", new ByteArrayContent([]));
        Assert.Equal(403, (int)post.StatusCode);
        Assert.Equal("method_not_allowed", post.Headers.GetValues("X-Cleanroom-Reason-Code").Single());
        using var head = await gateway.Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/pypi/files.pythonhosted.org{_index.FilePath}"));
        Assert.Equal(200, (int)head.StatusCode);
        Assert.Equal(_index.Wheel.Length, head.Content.Headers.ContentLength);
    }

    [Fact]
    public async Task A_page_that_is_neither_html_nor_json_is_an_upstream_error_and_not_cached()
    {
        _index.Server.Add("/simple/weird/", "application/octet-stream", [1, 2, 3]);
        _index.Server.Add("/simple/broken/", "application/vnd.pypi.simple.v1+json", "{\"files\": 3}"u8.ToArray());
        await using var gateway = await StartAsync();
        foreach (var project in new[] { "weird", "broken", "weird" })
        {
            using var response = await gateway.Http.GetAsync($"/pypi/pypi.org/simple/{project}/");
            Assert.Equal(502, (int)response.StatusCode);
            Assert.Equal("upstream_error", response.Headers.GetValues("X-Cleanroom-Reason-Code").Single());
        }

        Assert.Equal(3, _index.Server.Requests.Count);
    }

    private Task<GatewayHarness> StartAsync(
        Func<Cleanroom.Gateway.Server.GatewayOptions, Cleanroom.Gateway.Server.GatewayOptions>? configure = null, string allow = Allow) =>
        GatewayHarness.StartAsync(_index.Upstreams, allow, configure, cacheClock: _clock);
}
