using System.Text;
using Cleanroom.Gateway.Tests.Server;

namespace Cleanroom.Gateway.Tests.RubyGems;

/// <summary>The /rubygems/ route against a static gem server on loopback: index TTL, stale, files, refusals.</summary>
public sealed class RubyGemsRouteTests : IAsyncLifetime
{
    private const string Allow = "[\"rubygems.org:443\"]";
    private readonly ManualTimeProvider _clock = new();
    private RubyGemsIndex _index = null!;

    public async Task InitializeAsync() => _index = await RubyGemsIndex.BuildAsync();

    public async Task DisposeAsync() => await _index.DisposeAsync();

    [Fact]
    public async Task Gem_files_are_fetched_once_and_served_from_the_cache()
    {
        await using var gateway = await StartAsync();
        foreach (var path in new[] { $"/gems/{RubyGemsIndex.GemFile}", $"/quick/Marshal.4.8/{RubyGemsIndex.Name}-{RubyGemsIndex.Version}.gemspec.rz" })
        {
            for (var i = 0; i < 2; i++)
            {
                using var response = await gateway.Http.GetAsync($"/rubygems/rubygems.org{path}");
                Assert.Equal(200, (int)response.StatusCode);
                Assert.Equal(i == 0 ? "miss" : "hit", response.Headers.GetValues("X-Cleanroom-Cache").Single());
            }

            Assert.Equal(1, _index.Server.Count(path));
        }

        Assert.Equal(_index.Gem, await gateway.Http.GetByteArrayAsync($"/rubygems/rubygems.org/gems/{RubyGemsIndex.GemFile}"));
        Assert.Equal(2, gateway.Counters("rubygems").Misses);
    }

    [Fact]
    public async Task The_compact_index_is_kept_for_the_ttl_served_whole_despite_a_range_and_stale_while_the_upstream_is_down()
    {
        await using var gateway = await StartAsync();
        var info = $"/rubygems/rubygems.org/info/{RubyGemsIndex.Name}";
        Assert.Equal(_index.InfoText, await gateway.Http.GetStringAsync(info));

        // Bundler asks for the tail it lacks; the gateway answers the whole body with 200 (and no ETag), which Bundler accepts.
        using var ranged = new HttpRequestMessage(HttpMethod.Get, info);
        ranged.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(4, null);
        ranged.Headers.TryAddWithoutValidation("If-None-Match", "\"whatever\"");
        using (var response = await gateway.Http.SendAsync(ranged))
        {
            Assert.Equal(200, (int)response.StatusCode);
            Assert.Equal("hit", response.Headers.GetValues("X-Cleanroom-Cache").Single());
            Assert.Null(response.Headers.ETag);
            Assert.Equal(_index.InfoText, await response.Content.ReadAsStringAsync());
        }

        Assert.Equal(1, _index.Server.Count("/info/"));
        Assert.All(_index.Server.Requests, r => Assert.Null(r.Header("Range")));

        _clock.Advance(TimeSpan.FromMinutes(6));
        using (var refreshed = await gateway.Http.GetAsync(info))
        {
            Assert.Equal("miss", refreshed.Headers.GetValues("X-Cleanroom-Cache").Single());
        }

        Assert.Equal(2, _index.Server.Count("/info/"));
        Assert.Equal(200, (int)(await gateway.Http.GetAsync("/rubygems/rubygems.org/versions")).StatusCode);
        _clock.Advance(TimeSpan.FromMinutes(6));
        await _index.Server.StopAsync();
        foreach (var path in new[] { info, "/rubygems/rubygems.org/versions" })
        {
            using var stale = await gateway.Http.GetAsync(path);
            Assert.Equal(200, (int)stale.StatusCode);
            Assert.Equal("stale", stale.Headers.GetValues("X-Cleanroom-Cache").Single());
        }

        using var cold = await gateway.Http.GetAsync("/rubygems/rubygems.org/names");
        Assert.Equal(502, (int)cold.StatusCode);
        Assert.Equal("upstream_error", cold.Headers.GetValues("X-Cleanroom-Reason-Code").Single());
    }

    [Fact]
    public async Task A_hundred_concurrent_misses_make_exactly_one_upstream_request()
    {
        await using var gateway = await StartAsync(o => o with { MaxConcurrentRequestsPerSandbox = 200 });
        var arrived = _index.Server.Hold(1);
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 200 }) { BaseAddress = gateway.BaseUri };
        var requests = Enumerable.Range(0, 100).Select(_ => client.GetByteArrayAsync($"/rubygems/rubygems.org/gems/{RubyGemsIndex.GemFile}")).ToList();
        await arrived.WaitAsync(TimeSpan.FromSeconds(30));
        await FetchRouteTests.WaitUntilAsync(() => gateway.Server.RequestsInFlight == 100);
        _index.Server.Release();
        Assert.All(await Task.WhenAll(requests), body => Assert.Equal(_index.Gem, body));
        Assert.Single(_index.Server.Requests);
    }

    [Fact]
    public async Task An_upstream_404_is_passed_on_and_not_cached()
    {
        await using var gateway = await StartAsync();
        for (var i = 0; i < 2; i++)
        {
            using var info = await gateway.Http.GetAsync("/rubygems/rubygems.org/info/no_such_gem");
            Assert.Equal(404, (int)info.StatusCode);
            Assert.Equal("bypass", info.Headers.GetValues("X-Cleanroom-Cache").Single());
            using var gem = await gateway.Http.GetAsync("/rubygems/rubygems.org/gems/no_such_gem-1.0.gem");
            Assert.Equal(404, (int)gem.StatusCode);
        }

        Assert.Equal(4, _index.Server.Requests.Count);
    }

    [Fact]
    public async Task A_host_the_policy_does_not_allow_is_refused()
    {
        await using var gateway = await StartAsync(allow: "[\"pypi.org:443\"]");
        using var response = await gateway.Http.GetAsync($"/rubygems/rubygems.org/gems/{RubyGemsIndex.GemFile}");
        Assert.Equal(403, (int)response.StatusCode);
        Assert.Equal("host_not_allowed", response.Headers.GetValues("X-Cleanroom-Reason-Code").Single());
        Assert.Empty(_index.Server.Requests);
        Assert.Contains(gateway.Audit.Refusals, r => r.Route == "rubygems" && r.Reason == "host_not_allowed");
    }

    [Theory]
    [InlineData("/rubygems/rubygems.org/gems/a%2f..%2fb.gem", 400, "invalid_request")]
    [InlineData("/rubygems/rubygems.org/info/a%20b", 400, "invalid_request")]
    [InlineData("/rubygems/rubygems.org/info/%2e%2e", 400, "invalid_request")]
    [InlineData("/rubygems/rubygems.org/info/.hidden", 400, "invalid_request")]
    [InlineData("/rubygems/rubygems.org/versions?x=1", 400, "invalid_request")]
    [InlineData("/rubygems/rubygems.org/", 400, "invalid_request")]
    [InlineData("/rubygems/127.0.0.1/versions", 400, "invalid_request")]
    [InlineData("/rubygems/rubygems.org:444/versions", 400, "invalid_request")]
    [InlineData("/rubygems/rubygems.org/api/v1/dependencies", 404, "route_not_found")]
    [InlineData("/rubygems/rubygems.org/gems/x.tar", 404, "route_not_found")]
    [InlineData("/rubygems/rubygems.org/info/a/b", 404, "route_not_found")]
    public async Task Hostile_or_unknown_paths_are_refused(string target, int status, string reason)
    {
        await using var gateway = await StartAsync();
        var (code, headers) = await gateway.RawAsync(target);
        Assert.Equal(status, code);
        Assert.Equal(reason, headers["X-Cleanroom-Reason-Code"]);
        Assert.Empty(_index.Server.Requests);
    }

    [Fact]
    public async Task Only_get_and_head_are_served()
    {
        await using var gateway = await StartAsync();
        using var post = await gateway.Http.PostAsync("/rubygems/rubygems.org/api/v1/gems", new ByteArrayContent(Encoding.UTF8.GetBytes("x")));
        Assert.Equal(403, (int)post.StatusCode);
        Assert.Equal("method_not_allowed", post.Headers.GetValues("X-Cleanroom-Reason-Code").Single());
        Assert.Empty(_index.Server.Requests);
    }

    private Task<GatewayHarness> StartAsync(
        Func<Cleanroom.Gateway.Server.GatewayOptions, Cleanroom.Gateway.Server.GatewayOptions>? configure = null, string allow = Allow) =>
        GatewayHarness.StartAsync(_index.Upstreams, allow, configure, cacheClock: _clock);
}
