using System.Text;
using Cleanroom.Gateway.Tests.Server;
using Cleanroom.TestSupport;

namespace Cleanroom.Gateway.Tests.GoProxy;

/// <summary>The /goproxy/ route over HTTP against a static GOPROXY tree and a static checksum database on loopback.</summary>
public sealed class GoProxyRouteTests : IAsyncLifetime
{
    private const string Module = "example.test/hello";
    private const string Route = "/goproxy/proxy.golang.org";
    private readonly FileServer _proxy = new();
    private readonly FileServer _sumDb = new();

    public Task InitializeAsync()
    {
        GoModuleTree.Add(_proxy, Module, "v1.0.0", "v1.1.0-Beta.1");
        GoModuleTree.Add(_proxy, "example.test/Upper", "v1.0.0");
        _sumDb.Add("/latest", Encoding.UTF8.GetBytes("go.sum database tree\n1\nhash\n"));
        _sumDb.Add("/lookup/example.test/!upper@v1.0.0", Encoding.UTF8.GetBytes("1\nexample.test/Upper v1.0.0 h1:x=\n"));
        _sumDb.Add("/tile/8/0/x001/234", new byte[8192]);
        _sumDb.Add("/tile/8/data/000.p/3", Encoding.UTF8.GetBytes("records"));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _proxy.DisposeAsync();
        await _sumDb.DisposeAsync();
    }

    [Theory]
    [InlineData("info")]
    [InlineData("mod")]
    [InlineData("zip")]
    public async Task A_version_file_is_fetched_once_and_then_served_from_the_cache(string extension)
    {
        await using var gateway = await GoProxyGateway.StartAsync(_proxy.BaseUri);
        var path = $"{Route}/{Module}/@v/v1.0.0.{extension}";
        using var first = await gateway.Http.GetAsync(path);
        Assert.Equal(200, (int)first.StatusCode);
        Assert.Equal("miss", first.Headers.GetValues("X-Cleanroom-Cache").Single());
        var expected = extension switch
        {
            "zip" => GoModuleFiles.Zip(Module, "v1.0.0"),
            "mod" => Encoding.UTF8.GetBytes(GoModuleFiles.GoMod(Module)),
            _ => Encoding.UTF8.GetBytes("""{"Version":"v1.0.0","Time":"2026-01-01T00:00:00Z"}"""),
        };
        Assert.Equal(expected, await first.Content.ReadAsByteArrayAsync());

        // Versions never change: a day later it is still a hit.
        gateway.Clock.Advance(TimeSpan.FromDays(1));
        using var second = await gateway.Http.GetAsync(path);
        Assert.Equal("hit", second.Headers.GetValues("X-Cleanroom-Cache").Single());
        Assert.Equal(expected, await second.Content.ReadAsByteArrayAsync());
        Assert.Single(_proxy.Requests);
        Assert.Equal($"/{Module}/@v/v1.0.0.{extension}", _proxy.Requests[0].PathAndQuery);
        var counted = await gateway.CountersWhenAsync(c => c.Misses + c.Hits >= 2);
        Assert.Equal((1, 1), (counted.Misses, counted.Hits));
    }

    [Fact]
    public async Task Case_escaped_modules_and_versions_reach_the_upstream_as_written()
    {
        await using var gateway = await GoProxyGateway.StartAsync(_proxy.BaseUri);
        using var upper = await gateway.Http.GetAsync($"{Route}/example.test/!upper/@v/v1.0.0.mod");
        Assert.Equal(200, (int)upper.StatusCode);
        Assert.Equal(GoModuleFiles.GoMod("example.test/Upper"), await upper.Content.ReadAsStringAsync());
        using var pre = await gateway.Http.GetAsync($"{Route}/{Module}/@v/v1.1.0-!beta.1.info");
        Assert.Equal(200, (int)pre.StatusCode);
        Assert.Equal(
            ["/example.test/!upper/@v/v1.0.0.mod", $"/{Module}/@v/v1.1.0-!beta.1.info"],
            _proxy.Requests.Select(r => r.PathAndQuery));
    }

    [Theory]
    [InlineData("@v/list", "v1.0.0\nv1.1.0-Beta.1\n")]
    [InlineData("@latest", """{"Version":"v1.1.0-Beta.1","Time":"2026-01-02T00:00:00Z"}""")]
    public async Task Lists_and_latest_are_kept_for_the_metadata_ttl_then_fetched_again_and_stand_in_when_the_upstream_is_down(
        string file, string content)
    {
        var upstream = new FileServer();
        var upstreamDown = false;
        try
        {
            GoModuleTree.Add(upstream, Module, "v1.0.0", "v1.1.0-Beta.1");
            await using var gateway = await GoProxyGateway.StartAsync(upstream.BaseUri);
            await ServesListsAsync(gateway, upstream, file, content, () => upstreamDown = true);
        }
        finally
        {
            if (!upstreamDown)
            {
                await upstream.DisposeAsync();
            }
        }
    }

    private static async Task ServesListsAsync(GoProxyGateway gateway, FileServer upstream, string file, string content, Action stopping)
    {
        var path = $"{Route}/{Module}/{file}";
        await AssertServedAsync(gateway, path, "miss", content);
        gateway.Clock.Advance(TimeSpan.FromMinutes(4));
        await AssertServedAsync(gateway, path, "hit", content);
        Assert.Single(upstream.Requests);

        // Past the TTL the upstream is asked again and a new answer replaces the old one.
        GoModuleTree.Add(upstream, Module, "v1.0.0", "v1.1.0-Beta.1", "v1.2.0");
        var newer = file == "@v/list" ? content + "v1.2.0\n" : """{"Version":"v1.2.0","Time":"2026-01-03T00:00:00Z"}""";
        gateway.Clock.Advance(TimeSpan.FromMinutes(2));
        await AssertServedAsync(gateway, path, "miss", newer);
        Assert.Equal(2, upstream.Requests.Count);

        // Expired again with the upstream down: the last answer stands in, flagged stale.
        gateway.Clock.Advance(TimeSpan.FromMinutes(6));
        stopping();
        await upstream.DisposeAsync();
        await AssertServedAsync(gateway, path, "stale", newer);
        Assert.Equal(1, (await gateway.CountersWhenAsync(c => c.StaleServed >= 1)).StaleServed);

        // A version file never fetched cannot stand in for anything: 502.
        using var cold = await gateway.Http.GetAsync($"{Route}/{Module}/@v/v1.0.0.zip");
        Assert.Equal(502, (int)cold.StatusCode);
        Assert.Equal("upstream_error", cold.Headers.GetValues("X-Cleanroom-Reason-Code").Single());
    }

    [Theory]
    [InlineData("example.test/missing/@v/list")]
    [InlineData("example.test/missing/@latest")]
    [InlineData("example.test/hello/@v/v9.9.9.info")]
    [InlineData("example.test/hello/@v/v9.9.9.zip")]
    public async Task Not_found_is_passed_through_and_never_cached(string path)
    {
        await using var gateway = await GoProxyGateway.StartAsync(_proxy.BaseUri);
        for (var i = 0; i < 2; i++)
        {
            using var missing = await gateway.Http.GetAsync($"{Route}/{path}");
            Assert.Equal(404, (int)missing.StatusCode);
            Assert.Equal("bypass", missing.Headers.GetValues("X-Cleanroom-Cache").Single());
        }

        Assert.Equal(2, _proxy.Requests.Count);
        Assert.Equal(0, gateway.Cache.BlobCount);
    }

    [Fact]
    public async Task A_sandbox_whose_policy_does_not_allow_the_proxy_is_refused_before_any_upstream_request()
    {
        await using var gateway = await GoProxyGateway.StartAsync(_proxy.BaseUri, allow: "[\"files.example.test:443\"]");
        using var refused = await gateway.Http.GetAsync($"{Route}/{Module}/@v/v1.0.0.zip");
        Assert.Equal(403, (int)refused.StatusCode);
        Assert.Equal("host_not_allowed", refused.Headers.GetValues("X-Cleanroom-Reason-Code").Single());
        Assert.Contains("proxy.golang.org:443", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(_proxy.Requests);
        var audit = Assert.Single(gateway.Audit.Refusals);
        Assert.Equal(("goproxy", "proxy.golang.org", "host_not_allowed"), (audit.Route, audit.Host, audit.Reason));
        Assert.Equal(1, gateway.Counters().Refused);
    }

    [Theory]
    [InlineData("example.test/Hello/@v/list")] // upper case not escaped
    [InlineData("example.test/!1/@v/list")] // '!' not before a letter
    [InlineData("example.test/hello!/@v/list")]
    [InlineData("example.test/!!hello/@v/list")]
    [InlineData("nodot/hello/@v/list")] // the first element is a domain name
    [InlineData("-example.test/hello/@v/list")]
    [InlineData("example_test.com/hello/@v/list")]
    [InlineData("example.test/.hidden/@v/list")]
    [InlineData("example.test/trailing./@v/list")]
    [InlineData("example.test/../@v/list")]
    [InlineData("example.test/%2e%2e/@v/list")]
    [InlineData("example.test/a%2fb/@v/list")] // an encoded slash inside an element
    [InlineData("example.test/a%20b/@v/list")]
    [InlineData("example.test/a$b/@v/list")]
    [InlineData("example.test/a@b/@v/list")]
    [InlineData("example.test/hello")]
    [InlineData("@v/list")]
    [InlineData("example.test/hello/@v/1.0.0.info")] // versions begin with v
    [InlineData("example.test/hello/@v/v1.0.info")] // shorthand is a query, not a version
    [InlineData("example.test/hello/@v/v01.0.0.info")]
    [InlineData("example.test/hello/@v/v1.0.0-01.info")]
    [InlineData("example.test/hello/@v/v1.0.0+build.info")]
    [InlineData("example.test/hello/@v/v1.0.0-Beta.info")] // upper case in a version is escaped too
    [InlineData("example.test/hello/@v/master.info")]
    [InlineData("example.test/hello/@v/v1.0.0.exe")]
    [InlineData("example.test/hello/@v/v1.0.0")]
    [InlineData("example.test/hello/@v/")]
    [InlineData("example.test/hello/@v/list/more")]
    [InlineData("example.test/hello/@latest/more")]
    [InlineData("example.test/hello/@other/list")]
    [InlineData("example.test/hello/@v/list?x=1")]
    [InlineData("sumdb/sum.golang.org")]
    [InlineData("sumdb/sum.golang.org/supported/more")]
    [InlineData("sumdb/sum.golang.org/other")]
    [InlineData("sumdb/sum.golang.org/lookup/example.test/hello")]
    [InlineData("sumdb/sum.golang.org/lookup/example.test/hello@v1@v2")]
    [InlineData("sumdb/sum.golang.org/lookup/example.test/Hello@v1.0.0")]
    [InlineData("sumdb/sum.golang.org/tile/8/0/12")]
    [InlineData("sumdb/sum.golang.org/tile/8/0/x12/345")]
    [InlineData("sumdb/sum.golang.org/tile/8/0/001/234")]
    [InlineData("sumdb/sum.golang.org/tile/31/0/000")]
    [InlineData("sumdb/sum.golang.org/tile/8/64/000")]
    [InlineData("sumdb/sum.golang.org/tile/8/zz/000")]
    [InlineData("sumdb/sum.golang.org/tile/8/0/000.p/256")]
    [InlineData("sumdb/sum.golang.org/tile/8/0/000.p/0")]
    [InlineData("sumdb/sum.golang.org/tile/8/0/000.p/")]
    [InlineData("sumdb/127.0.0.1/supported")]
    [InlineData("sumdb/sum.golang.org:443/supported")]
    public async Task Paths_outside_the_protocol_grammar_are_refused_without_reaching_the_upstream(string path)
    {
        await using var gateway = await GoProxyGateway.StartAsync(_proxy.BaseUri, _sumDb.BaseUri);
        var (status, headers) = await RawAsync(gateway, $"{Route}/{path}");
        Assert.Equal(400, status);
        Assert.Equal("invalid_request", headers["X-Cleanroom-Reason-Code"]);
        Assert.Empty(_proxy.Requests);
        Assert.Empty(_sumDb.Requests);
    }

    [Fact]
    public async Task Only_get_and_head_are_served()
    {
        await using var gateway = await GoProxyGateway.StartAsync(_proxy.BaseUri);
        using var post = await gateway.Http.PostAsync($"{Route}/{Module}/@v/list", new ByteArrayContent([]));
        Assert.Equal(403, (int)post.StatusCode);
        Assert.Equal("method_not_allowed", post.Headers.GetValues("X-Cleanroom-Reason-Code").Single());
        using var head = await gateway.Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"{Route}/{Module}/@v/v1.0.0.zip"));
        Assert.Equal(200, (int)head.StatusCode);
        Assert.Equal(GoModuleFiles.Zip(Module, "v1.0.0").Length, head.Content.Headers.ContentLength);
        Assert.Single(_proxy.Requests);
    }

    [Fact]
    public async Task A_hundred_concurrent_misses_make_exactly_one_upstream_request()
    {
        await using var gateway = await GoProxyGateway.StartAsync(_proxy.BaseUri, maxConcurrent: 200);
        var arrived = _proxy.Hold(1);
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 200, UseProxy = false }) { BaseAddress = gateway.BaseUri };
        var requests = Enumerable.Range(0, 100).Select(_ => client.GetByteArrayAsync($"{Route}/{Module}/@v/v1.0.0.zip")).ToList();
        await arrived.WaitAsync(TimeSpan.FromSeconds(30));
        await FetchRouteTests.WaitUntilAsync(() => gateway.Server.RequestsInFlight == 100);
        _proxy.Release();

        var zip = GoModuleFiles.Zip(Module, "v1.0.0");
        foreach (var body in await Task.WhenAll(requests))
        {
            Assert.Equal(zip, body);
        }

        Assert.Single(_proxy.Requests);
        var all = await gateway.CountersWhenAsync(c => c.Hits + c.Misses >= 100);
        Assert.Equal(100, all.Hits + all.Misses);
    }

    [Fact]
    public async Task The_checksum_database_is_proxied_from_its_own_host_when_the_policy_allows_it()
    {
        await using var gateway = await GoProxyGateway.StartAsync(_proxy.BaseUri, _sumDb.BaseUri);
        using var supported = await gateway.Http.GetAsync($"{Route}/sumdb/sum.golang.org/supported");
        Assert.Equal(200, (int)supported.StatusCode);
        Assert.Empty(await supported.Content.ReadAsByteArrayAsync());

        // Tiles are immutable (a full tile and a partial one of a given width never change).
        foreach (var tile in new[] { "tile/8/0/x001/234", "tile/8/data/000.p/3" })
        {
            await AssertServedAsync(gateway, $"{Route}/sumdb/sum.golang.org/{tile}", "miss", null);
            gateway.Clock.Advance(TimeSpan.FromDays(1));
            await AssertServedAsync(gateway, $"{Route}/sumdb/sum.golang.org/{tile}", "hit", null);
        }

        // The tree head and lookups carry the latest signed tree: kept for the metadata TTL only.
        foreach (var mutable in new[] { "latest", "lookup/example.test/!upper@v1.0.0" })
        {
            await AssertServedAsync(gateway, $"{Route}/sumdb/sum.golang.org/{mutable}", "miss", null);
            await AssertServedAsync(gateway, $"{Route}/sumdb/sum.golang.org/{mutable}", "hit", null);
            gateway.Clock.Advance(TimeSpan.FromMinutes(6));
            await AssertServedAsync(gateway, $"{Route}/sumdb/sum.golang.org/{mutable}", "miss", null);
        }

        Assert.Equal(
            ["/tile/8/0/x001/234", "/tile/8/data/000.p/3", "/latest", "/latest", "/lookup/example.test/!upper@v1.0.0", "/lookup/example.test/!upper@v1.0.0"],
            _sumDb.Requests.Select(r => r.PathAndQuery));
        Assert.Empty(_proxy.Requests);
    }

    [Fact]
    public async Task A_checksum_database_the_policy_does_not_allow_is_refused_with_403_not_404()
    {
        // 404 or 410 on `supported` would send go straight to the database, which the firewall blocks; a 403 stops
        // go with the gateway's message instead.
        await using var gateway = await GoProxyGateway.StartAsync(_proxy.BaseUri, _sumDb.BaseUri, allow: "[\"proxy.golang.org:443\"]");
        foreach (var path in new[] { "supported", "latest", "lookup/example.test/hello@v1.0.0", "tile/8/0/000" })
        {
            using var refused = await gateway.Http.GetAsync($"{Route}/sumdb/sum.golang.org/{path}");
            Assert.Equal(403, (int)refused.StatusCode);
            Assert.Equal("host_not_allowed", refused.Headers.GetValues("X-Cleanroom-Reason-Code").Single());
            Assert.Contains("sum.golang.org:443", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.Empty(_sumDb.Requests);
        Assert.All(gateway.Audit.Refusals, r => Assert.Equal("sum.golang.org", r.Host));
    }

    private static async Task AssertServedAsync(GoProxyGateway gateway, string path, string state, string? content)
    {
        using var response = await gateway.Http.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(200 == (int)response.StatusCode, $"{path}: {(int)response.StatusCode} {body}\n{gateway.Log}");
        Assert.Equal(state, response.Headers.GetValues("X-Cleanroom-Cache").Single());
        if (content is not null)
        {
            Assert.Equal(content, body);
        }
    }

    /// <summary>Sends the target exactly as written (HttpClient would normalise dot segments and escapes).</summary>
    private static async Task<(int Status, Dictionary<string, string> Headers)> RawAsync(GoProxyGateway gateway, string target)
    {
        using var socket = new System.Net.Sockets.TcpClient();
        await socket.ConnectAsync(System.Net.IPAddress.Loopback, gateway.Server.Endpoints[0].Port);
        var stream = socket.GetStream();
        await stream.WriteAsync(Encoding.Latin1.GetBytes($"GET {target} HTTP/1.1\r\nHost: gateway.cleanroom.internal\r\nConnection: close\r\n\r\n"));
        using var reader = new StreamReader(stream, Encoding.Latin1);
        var statusLine = await reader.ReadLineAsync() ?? throw new IOException("no answer");
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        string? line;
        while (!string.IsNullOrEmpty(line = await reader.ReadLineAsync()))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            headers[line[..colon]] = line[(colon + 1)..].Trim();
        }

        return (int.Parse(statusLine.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture), headers);
    }
}
