using System.Text;
using System.Text.Json.Nodes;
using Cleanroom.Gateway.Server;
using Cleanroom.Gateway.Tests.Server;
using Cleanroom.TestSupport;

namespace Cleanroom.Gateway.Tests.Npm;

/// <summary>The /npm/ route against a static registry on loopback: packuments, tarballs, TTL, stale, refusals.</summary>
public sealed class NpmRouteTests : IAsyncLifetime
{
    private const string Host = NpmRegistryServer.TarballHost;
    private const string PublicBase = "http://gateway.example.test:8170";
    private const string Abbreviated = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*";
    private readonly NpmRegistryServer _registry = new();
    private readonly NpmTestPackage _left = new("left", "1.0.0");
    private readonly NpmTestPackage _scoped = new("@cr/right", "2.0.0", new Dictionary<string, string> { ["left"] = "^1.0.0" });

    public Task InitializeAsync()
    {
        _registry.Add(_left);
        _registry.Add(_scoped);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _registry.DisposeAsync();

    [Fact]
    public async Task A_packument_is_fetched_once_and_its_tarball_links_point_at_the_gateway()
    {
        await using var gateway = await StartAsync();
        using var first = await GetAsync(gateway, $"/npm/{Host}/left", Abbreviated);
        Assert.Equal(200, (int)first.StatusCode);
        Assert.Equal("miss", Cache(first));
        var packument = JsonNode.Parse(await first.Content.ReadAsStringAsync())!;
        Assert.Equal($"{PublicBase}/npm/{Host}/left/-/left-1.0.0.tgz", (string?)packument["versions"]!["1.0.0"]!["dist"]!["tarball"]);
        Assert.Equal(_left.Integrity, (string?)packument["versions"]!["1.0.0"]!["dist"]!["integrity"]);

        using var second = await GetAsync(gateway, $"/npm/{Host}/left", Abbreviated);
        Assert.Equal("hit", Cache(second));
        Assert.Equal(packument.ToJsonString(), JsonNode.Parse(await second.Content.ReadAsStringAsync())!.ToJsonString());
        Assert.Single(_registry.Paths);
        Assert.Equal(Abbreviated, _registry.Requests[0].Header("Accept"));
        Assert.Equal(1, gateway.Counters("npm").Misses);
        Assert.Equal(1, gateway.Counters("npm").Hits);
    }

    [Fact]
    public async Task The_full_and_the_abbreviated_packument_are_cached_apart()
    {
        await using var gateway = await StartAsync();
        using var abbreviated = await GetAsync(gateway, $"/npm/{Host}/left", Abbreviated);
        using var full = await GetAsync(gateway, $"/npm/{Host}/left", "application/json");
        using var fullAgain = await GetAsync(gateway, $"/npm/{Host}/left", null);

        Assert.Equal("miss", Cache(abbreviated));
        Assert.Equal("miss", Cache(full));
        Assert.Equal("hit", Cache(fullAgain));
        var fullBody = JsonNode.Parse(await full.Content.ReadAsStringAsync())!;
        Assert.Equal("left", (string?)fullBody["_id"]);
        Assert.Null(JsonNode.Parse(await abbreviated.Content.ReadAsStringAsync())!["_id"]);
        Assert.Equal("application/json", _registry.Requests[1].Header("Accept"));
        Assert.Equal(2, _registry.Paths.Count);
    }

    [Fact]
    public async Task The_rewrite_keeps_everything_else_as_the_upstream_wrote_it()
    {
        await using var gateway = await StartAsync();
        var text = await (await GetAsync(gateway, $"/npm/{Host}/left", "application/json")).Content.ReadAsStringAsync();

        var expected = _registry.Packument("left", abbreviated: false);
        expected["versions"]!["1.0.0"]!["dist"]!["tarball"] = $"{PublicBase}/npm/{Host}/left/-/left-1.0.0.tgz";
        Assert.True(JsonNode.DeepEquals(expected, JsonNode.Parse(text)), text);
    }

    [Theory]
    [InlineData("@cr%2fright")]
    [InlineData("@cr%2Fright")]
    [InlineData("@cr/right")]
    public async Task A_scoped_packument_is_asked_for_as_npm_spells_it_whichever_way_the_guest_sent_it(string path)
    {
        await using var gateway = await StartAsync();
        using var answer = await GetAsync(gateway, $"/npm/{Host}/{path}", Abbreviated);
        Assert.Equal(200, (int)answer.StatusCode);
        var packument = JsonNode.Parse(await answer.Content.ReadAsStringAsync())!;
        Assert.Equal($"{PublicBase}/npm/{Host}/@cr/right/-/right-2.0.0.tgz", (string?)packument["versions"]!["2.0.0"]!["dist"]!["tarball"]);
        Assert.Equal(["/@cr%2fright"], _registry.Paths);

        using var other = await GetAsync(gateway, $"/npm/{Host}/{(path == "@cr/right" ? "@cr%2fright" : "@cr/right")}", Abbreviated);
        Assert.Equal("hit", Cache(other));
    }

    [Theory]
    [InlineData("left/-/left-1.0.0.tgz", "left")]
    [InlineData("@cr/right/-/right-2.0.0.tgz", "@cr/right")]
    [InlineData("@cr%2fright/-/right-2.0.0.tgz", "@cr/right")]
    public async Task A_tarball_is_immutable_and_fetched_once(string path, string name)
    {
        var package = name == "left" ? _left : _scoped;
        await using var gateway = await StartAsync(o => o with { MetadataTtl = TimeSpan.FromTicks(1) });
        using var first = await gateway.Http.GetAsync($"/npm/{Host}/{path}");
        Assert.Equal(200, (int)first.StatusCode);
        Assert.Equal("miss", Cache(first));
        Assert.Equal(package.Tarball, await first.Content.ReadAsByteArrayAsync());

        using var second = await gateway.Http.GetAsync($"/npm/{Host}/{path}");
        Assert.Equal("hit", Cache(second));
        Assert.Equal(package.Tarball, await second.Content.ReadAsByteArrayAsync());
        using var head = await gateway.Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/npm/{Host}/{path}"));
        Assert.Equal(package.Tarball.Length, head.Content.Headers.ContentLength);
        Assert.Equal([package.TarballPath], _registry.Paths);
    }

    [Fact]
    public async Task An_expired_packument_is_fetched_again_and_served_stale_while_the_upstream_is_down()
    {
        await using var gateway = await StartAsync(o => o with { MetadataTtl = TimeSpan.FromTicks(1) });
        using var first = await GetAsync(gateway, $"/npm/{Host}/left", Abbreviated);
        Assert.Equal("miss", Cache(first));
        using var again = await GetAsync(gateway, $"/npm/{Host}/left", Abbreviated);
        Assert.Equal(200, (int)again.StatusCode);
        Assert.NotEqual("hit", Cache(again));
        Assert.Equal(2, _registry.Paths.Count);

        _registry.Down = true;
        using var stale = await GetAsync(gateway, $"/npm/{Host}/left", Abbreviated);
        Assert.Equal(200, (int)stale.StatusCode);
        Assert.Equal("stale", Cache(stale));
        Assert.Contains("left-1.0.0.tgz", await stale.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(1, gateway.Counters("npm").StaleServed);

        using var cold = await GetAsync(gateway, $"/npm/{Host}/@cr%2fright", Abbreviated);
        Assert.Equal(502, (int)cold.StatusCode);
        Assert.Equal("upstream_error", Reason(cold));
    }

    [Fact]
    public async Task A_fresh_packument_is_served_from_the_cache_while_the_upstream_is_down()
    {
        await using var gateway = await StartAsync();
        using var first = await GetAsync(gateway, $"/npm/{Host}/left", Abbreviated);
        _registry.Down = true;
        using var second = await GetAsync(gateway, $"/npm/{Host}/left", Abbreviated);
        Assert.Equal("hit", Cache(second));
        Assert.Single(_registry.Paths);
    }

    [Fact]
    public async Task A_registry_the_policy_does_not_allow_is_refused_and_not_asked()
    {
        await using var gateway = await StartAsync(allow: "[\"files.example.test:443\"]");
        using var packument = await GetAsync(gateway, $"/npm/{Host}/left", Abbreviated);
        using var tarball = await gateway.Http.GetAsync($"/npm/{Host}/left/-/left-1.0.0.tgz");

        Assert.Equal(403, (int)packument.StatusCode);
        Assert.Equal("host_not_allowed", Reason(packument));
        Assert.Equal("host_not_allowed", Reason(tarball));
        Assert.Empty(_registry.Paths);
        Assert.Contains(gateway.Audit.Refusals, r => r.Route == "npm" && r.Host == Host && r.Reason == "host_not_allowed");
    }

    [Fact]
    public async Task A_tarball_on_another_host_is_rewritten_and_checked_against_the_policy_when_fetched()
    {
        _registry.TarballLink = p => $"https://cdn.example.test{p.TarballPath}";
        await using var gateway = await StartAsync();
        var text = await (await GetAsync(gateway, $"/npm/{Host}/left", Abbreviated)).Content.ReadAsStringAsync();
        Assert.Contains($"\"{PublicBase}/npm/cdn.example.test/left/-/left-1.0.0.tgz\"", text, StringComparison.Ordinal);

        using var tarball = await gateway.Http.GetAsync($"/npm/cdn.example.test/left/-/left-1.0.0.tgz");
        Assert.Equal(403, (int)tarball.StatusCode);
        Assert.Equal("host_not_allowed", Reason(tarball));
        Assert.Single(_registry.Paths);
    }

    [Theory]
    [InlineData("http://registry.npmjs.org/left/-/left-1.0.0.tgz", $"{PublicBase}/npm/{Host}/left/-/left-1.0.0.tgz")]
    [InlineData("HTTPS://Registry.NPMJS.org:443/left/-/left-1.0.0.tgz", $"{PublicBase}/npm/{Host}/left/-/left-1.0.0.tgz")]
    [InlineData("https://registry.npmjs.org:8443/left/-/left-1.0.0.tgz", null)]
    [InlineData("https://user:pw@registry.npmjs.org/left/-/left-1.0.0.tgz", null)]
    [InlineData("https://127.0.0.1/left/-/left-1.0.0.tgz", null)]
    [InlineData("https://registry.npmjs.org/left/-/left-1.0.0.tgz?token=1", null)]
    [InlineData("https://registry.npmjs.org/left/-/left-1.0.0.tgz#x", null)]
    [InlineData("https://registry.npmjs.org/download/left/1.0.0", null)]
    [InlineData("https://registry.npmjs.org/a/../left/-/left-1.0.0.tgz", null)]
    [InlineData("https://registry.npmjs.org/left/-/..%2fleft-1.0.0.tgz", null)]
    [InlineData("ftp://registry.npmjs.org/left/-/left-1.0.0.tgz", null)]
    [InlineData("not a url", null)]
    public async Task Only_plain_tarball_links_are_rewritten_and_others_are_kept_as_they_were(string link, string? expected)
    {
        _registry.TarballLink = _ => link;
        await using var gateway = await StartAsync();
        using var answer = await GetAsync(gateway, $"/npm/{Host}/left", Abbreviated);
        Assert.Equal(200, (int)answer.StatusCode);
        var packument = JsonNode.Parse(await answer.Content.ReadAsStringAsync())!;
        Assert.Equal(expected ?? link, (string?)packument["versions"]!["1.0.0"]!["dist"]!["tarball"]);
    }

    [Theory]
    [InlineData("/npm/registry.npmjs.org/.left")]
    [InlineData("/npm/registry.npmjs.org/_left")]
    [InlineData("/npm/registry.npmjs.org/le%20ft")]
    [InlineData("/npm/registry.npmjs.org/left%2f..")]
    [InlineData("/npm/registry.npmjs.org/left%2fx")]
    [InlineData("/npm/registry.npmjs.org/@cr%2f..%2f..%2fetc")]
    [InlineData("/npm/registry.npmjs.org/@cr%2fright%2fx")]
    [InlineData("/npm/registry.npmjs.org/@CR/right")]
    [InlineData("/npm/registry.npmjs.org/@/right")]
    [InlineData("/npm/registry.npmjs.org/@cr")]
    [InlineData("/npm/registry.npmjs.org/left/")]
    [InlineData("/npm/registry.npmjs.org/left/-/left-1.0.0.zip")]
    [InlineData("/npm/registry.npmjs.org/left/-/.tgz")]
    [InlineData("/npm/registry.npmjs.org/left/-/a%2f..%2fb.tgz")]
    [InlineData("/npm/registry.npmjs.org/left/-/a%3fb.tgz")]
    [InlineData("/npm/registry.npmjs.org/left?write=true")]
    [InlineData("/npm/registry.npmjs.org%2fevil/left")]
    [InlineData("/npm/user@registry.npmjs.org/left")]
    [InlineData("/npm/registry.npmjs.org:8080/left")]
    [InlineData("/npm/127.0.0.1/left")]
    [InlineData("/npm/")]
    public async Task Hostile_paths_are_refused_as_invalid_and_never_reach_the_upstream(string target)
    {
        await using var gateway = await StartAsync();
        var (status, headers) = await gateway.RawAsync(target);
        Assert.Equal(400, status);
        Assert.Equal("invalid_request", headers[GatewayServer.ReasonHeader]);
        Assert.Empty(_registry.Paths);
    }

    [Theory]
    [InlineData("GET", "/npm/registry.npmjs.org/-/v1/search?text=left", 404, "route_not_found")]
    [InlineData("GET", "/npm/registry.npmjs.org/-/whoami", 404, "route_not_found")]
    [InlineData("GET", "/npm/registry.npmjs.org/", 404, "route_not_found")]
    [InlineData("GET", "/npm/registry.npmjs.org/left/1.0.0", 404, "route_not_found")]
    [InlineData("POST", "/npm/registry.npmjs.org/-/npm/v1/security/advisories/bulk", 403, "method_not_allowed")]
    [InlineData("POST", "/npm/registry.npmjs.org/-/npm/v1/security/audits/quick", 403, "method_not_allowed")]
    [InlineData("PUT", "/npm/registry.npmjs.org/left", 403, "method_not_allowed")]
    [InlineData("PUT", "/npm/registry.npmjs.org/-/user/org.couchdb.user:me", 403, "method_not_allowed")]
    [InlineData("DELETE", "/npm/registry.npmjs.org/left/-/left-1.0.0.tgz/-rev/1", 403, "method_not_allowed")]
    public async Task Writes_audits_and_the_rest_of_the_registry_api_are_refused(string method, string target, int expected, string reason)
    {
        await using var gateway = await StartAsync();
        var (status, headers) = await gateway.RawAsync(target, method, "Content-Length: 2\r\n", "{}"u8.ToArray());
        Assert.Equal(expected, status);
        Assert.Equal(reason, headers[GatewayServer.ReasonHeader]);
        Assert.Empty(_registry.Paths);
    }

    [Fact]
    public async Task A_hundred_concurrent_misses_make_exactly_one_upstream_request()
    {
        await using var gateway = await StartAsync(o => o with { MaxConcurrentRequestsPerSandbox = 200 });
        var arrived = _registry.Hold(1);
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 200 }) { BaseAddress = gateway.BaseUri };
        var requests = Enumerable.Range(0, 100).Select(async _ =>
        {
            using var message = new HttpRequestMessage(HttpMethod.Get, $"/npm/{Host}/@cr%2fright");
            message.Headers.Accept.ParseAdd(Abbreviated);
            using var answer = await client.SendAsync(message);
            Assert.Equal(200, (int)answer.StatusCode);
            return await answer.Content.ReadAsStringAsync();
        }).ToList();
        await arrived.WaitAsync(TimeSpan.FromSeconds(30));
        await FetchRouteTests.WaitUntilAsync(() => gateway.Server.RequestsInFlight == 100);
        _registry.Release();

        var bodies = await Task.WhenAll(requests);
        Assert.Single(bodies.Distinct());
        Assert.Contains("/npm/registry.npmjs.org/@cr/right/-/right-2.0.0.tgz", bodies[0], StringComparison.Ordinal);
        Assert.Single(_registry.Paths);
    }

    [Fact]
    public async Task An_unknown_package_is_passed_on_as_404_and_not_cached()
    {
        await using var gateway = await StartAsync();
        for (var i = 0; i < 2; i++)
        {
            using var missing = await GetAsync(gateway, $"/npm/{Host}/nothing-here", Abbreviated);
            Assert.Equal(404, (int)missing.StatusCode);
            Assert.Equal("bypass", Cache(missing));
        }

        using var tarball = await gateway.Http.GetAsync($"/npm/{Host}/left/-/left-9.9.9.tgz");
        Assert.Equal(404, (int)tarball.StatusCode);
        Assert.Equal(3, _registry.Paths.Count);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1, 2]")]
    [InlineData("{\"versions\": {} } {}")]
    [InlineData("{\"versions\": {\"1.0.0\": {\"dist\": {\"tarball\": \"https://registry.npmjs.org/x/-/x.tgz\"}}}")]
    [InlineData("{\"a\": 1,}")]
    [InlineData("")]
    [InlineData("deep")]
    public async Task A_packument_that_is_not_an_acceptable_json_object_is_an_upstream_error_and_not_cached(string body)
    {
        if (body == "deep")
        {
            body = "{\"a\":" + string.Concat(Enumerable.Repeat("[", 200)) + string.Concat(Enumerable.Repeat("]", 200)) + "}";
        }

        _registry.Raw("/broken", 200, "application/json", Encoding.UTF8.GetBytes(body));
        await using var gateway = await StartAsync();
        for (var i = 0; i < 2; i++)
        {
            using var answer = await GetAsync(gateway, $"/npm/{Host}/broken", Abbreviated);
            Assert.Equal(502, (int)answer.StatusCode);
            Assert.Equal("upstream_error", Reason(answer));
        }

        Assert.Equal(2, _registry.Paths.Count);
        Assert.Equal(0, gateway.Cache.BlobCount);
    }

    [Fact]
    public async Task A_packument_over_the_size_bound_is_an_upstream_error()
    {
        var big = new byte[Cleanroom.Gateway.Routes.Npm.NpmRoute.MaxPackumentBytes + 10];
        Array.Fill(big, (byte)' ');
        big[0] = (byte)'{';
        big[^1] = (byte)'}';
        _registry.Raw("/big", 200, "application/json", big);
        await using var gateway = await StartAsync();
        using var answer = await GetAsync(gateway, $"/npm/{Host}/big", Abbreviated);
        Assert.Equal(502, (int)answer.StatusCode);
        Assert.Equal("upstream_error", Reason(answer));
        Assert.Equal(0, gateway.Cache.BlobCount);
    }

    private static string Cache(HttpResponseMessage answer) => answer.Headers.GetValues("X-Cleanroom-Cache").Single();

    private static string Reason(HttpResponseMessage answer) => answer.Headers.GetValues(GatewayServer.ReasonHeader).Single();

    private static async Task<HttpResponseMessage> GetAsync(GatewayHarness gateway, string path, string? accept)
    {
        using var message = new HttpRequestMessage(HttpMethod.Get, path);
        if (accept is not null)
        {
            message.Headers.Accept.Clear();
            message.Headers.TryAddWithoutValidation("Accept", accept);
        }

        return await gateway.Http.SendAsync(message);
    }

    private Task<GatewayHarness> StartAsync(Func<GatewayOptions, GatewayOptions>? configure = null, string allow = $"[\"{Host}:443\"]") =>
        GatewayHarness.StartAsync(
            new Dictionary<string, Uri> { [Host] = _registry.BaseUri, ["cdn.example.test"] = _registry.BaseUri },
            allow,
            o => configure?.Invoke(o with { PublicBaseUrl = new Uri(PublicBase) }) ?? (o with { PublicBaseUrl = new Uri(PublicBase) }));
}
