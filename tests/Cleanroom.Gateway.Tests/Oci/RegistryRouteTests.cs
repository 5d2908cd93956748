using System.Net;
using Cleanroom.Gateway.Tests.Server;
using Cleanroom.Oci;

namespace Cleanroom.Gateway.Tests.Oci;

/// <summary>The <c>/registry/&lt;host&gt;/v2/</c> and <c>/v2/</c> routes through the real gateway listener, over a real docker-registry.</summary>
public sealed class RegistryRouteTests(OciRegistryFixture fixture) : IClassFixture<OciRegistryFixture>
{
    private const string App = "/registry/registry.test/v2/test/app";

    [Fact]
    public async Task A_manifest_by_tag_then_by_digest_and_a_blob_by_head_then_get_are_served_with_the_distribution_headers()
    {
        await using var g = await OciGateway.StartAsync(fixture.Registry.BaseUri);
        var digest = fixture.App.ManifestDigest.ToString();

        using var byTag = await g.SendAsync(HttpMethod.Get, App + "/manifests/v1");
        Assert.Equal(HttpStatusCode.OK, byTag.StatusCode);
        Assert.Equal(fixture.App.ManifestBytes, await byTag.Content.ReadAsByteArrayAsync());
        Assert.Equal(MediaTypes.OciManifest, byTag.Content.Headers.ContentType?.MediaType);
        Assert.Equal(digest, OciGateway.Header(byTag, "Docker-Content-Digest"));
        Assert.Equal(fixture.App.ManifestBytes.Length, byTag.Content.Headers.ContentLength);
        Assert.Equal("registry/2.0", OciGateway.Header(byTag, "Docker-Distribution-API-Version"));
        Assert.Equal("miss", OciGateway.Header(byTag, "X-Cleanroom-Cache"));

        using var byDigest = await g.SendAsync(HttpMethod.Get, App + "/manifests/" + digest);
        Assert.Equal(HttpStatusCode.OK, byDigest.StatusCode);
        Assert.Equal("hit", OciGateway.Header(byDigest, "X-Cleanroom-Cache"));
        Assert.Equal(fixture.App.ManifestBytes, await byDigest.Content.ReadAsByteArrayAsync());
        Assert.Equal(0, g.UpstreamRequests("/manifests/" + digest));

        var layer = fixture.App.Layers[0].Blob;
        using var head = await g.SendAsync(HttpMethod.Head, App + "/blobs/" + layer.Digest);
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(layer.Size, head.Content.Headers.ContentLength);
        Assert.Equal(layer.Digest.ToString(), OciGateway.Header(head, "Docker-Content-Digest"));
        Assert.Equal("application/octet-stream", head.Content.Headers.ContentType?.MediaType);
        Assert.Equal("miss", OciGateway.Header(head, "X-Cleanroom-Cache"));
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());

        using var get = await g.SendAsync(HttpMethod.Get, App + "/blobs/" + layer.Digest);
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal("hit", OciGateway.Header(get, "X-Cleanroom-Cache"));
        Assert.Equal("registry/2.0", OciGateway.Header(get, "Docker-Distribution-API-Version"));
        Assert.Equal(layer.ReadAllBytes(), await get.Content.ReadAsByteArrayAsync());
        Assert.Equal(1, g.UpstreamRequests("/blobs/" + layer.Digest));
        Assert.Equal(1, g.UpstreamRequests("/manifests/v1"));

        var counters = g.Counters;
        Assert.Equal((2, 2, 0L), (counters.Hits, counters.Misses, counters.Refused));
        Assert.Equal((2L * fixture.App.ManifestBytes.Length) + layer.Size, counters.BytesServed);
        Assert.Empty(g.Gateway.Audit.Refusals);
    }

    [Theory]
    [InlineData("/registry/registry.test/v2/")]
    [InlineData("/registry/registry.test/v2")]
    [InlineData("/v2/")]
    [InlineData("/v2")]
    public async Task The_version_check_answers_200_with_the_api_version_and_asks_no_upstream(string path)
    {
        await using var g = await OciGateway.StartAsync(fixture.Registry.BaseUri);

        using var ping = await g.SendAsync(HttpMethod.Get, path);

        Assert.Equal(HttpStatusCode.OK, ping.StatusCode);
        Assert.Equal("registry/2.0", OciGateway.Header(ping, "Docker-Distribution-API-Version"));
        Assert.Empty(g.Upstream.Requests);
    }

    [Fact]
    public async Task The_mirror_route_serves_docker_hub_and_puts_official_images_under_library()
    {
        await using var g = await OciGateway.StartAsync(fixture.Registry.BaseUri);

        using var shortName = await g.SendAsync(HttpMethod.Get, "/v2/alpine/manifests/3");
        Assert.Equal(HttpStatusCode.OK, shortName.StatusCode);
        Assert.Equal(fixture.App.ManifestBytes, await shortName.Content.ReadAsByteArrayAsync());
        Assert.Equal("miss", OciGateway.Header(shortName, "X-Cleanroom-Cache"));
        Assert.Single(g.Upstream.Requests, r => r.PathAndQuery == "/v2/library/alpine/manifests/3");

        using var fullName = await g.SendAsync(HttpMethod.Get, "/v2/library/alpine/manifests/3");
        Assert.Equal("hit", OciGateway.Header(fullName, "X-Cleanroom-Cache"));
        var layer = fixture.App.Layers[1].Blob;
        using var blob = await g.SendAsync(HttpMethod.Get, "/v2/library/alpine/blobs/" + layer.Digest);
        Assert.Equal(layer.ReadAllBytes(), await blob.Content.ReadAsByteArrayAsync());
        Assert.Single(g.Upstream.Requests, r => r.PathAndQuery == "/v2/library/alpine/blobs/" + layer.Digest);

        // Both prefixes count under one route name.
        Assert.Equal((1, 2), (g.Counters.Hits, g.Counters.Misses));
    }

    [Fact]
    public async Task A_registry_the_policy_does_not_allow_is_refused_audited_and_never_asked()
    {
        await using var g = await OciGateway.StartAsync(fixture.Registry.BaseUri, allow: "[\"registry.test:443\"]");

        using var hub = await g.SendAsync(HttpMethod.Get, "/v2/alpine/manifests/3");
        await OciGateway.AssertErrorAsync(hub, HttpStatusCode.Forbidden, "host_not_allowed", "DENIED");
        using var other = await g.SendAsync(HttpMethod.Head, "/registry/other.example/v2/x/blobs/sha256:" + new string('a', 64));
        Assert.Equal(HttpStatusCode.Forbidden, other.StatusCode);
        Assert.Equal("host_not_allowed", OciGateway.Header(other, "X-Cleanroom-Reason-Code"));
        Assert.Equal("registry/2.0", OciGateway.Header(other, "Docker-Distribution-API-Version"));
        using var ping = await g.SendAsync(HttpMethod.Get, "/registry/other.example/v2/");
        Assert.Equal(HttpStatusCode.Forbidden, ping.StatusCode);

        Assert.Empty(g.Upstream.Requests);
        var audits = g.Gateway.Audit.Refusals;
        Assert.Equal(3, audits.Count);
        Assert.All(audits, a => Assert.Equal(("registry", "host_not_allowed", GatewayHarness.SandboxId), (a.Route, a.Reason, a.SandboxId)));
        Assert.Equal(["docker.io", "other.example", "other.example"], audits.Select(a => a.Host));
        Assert.Equal("/v2/alpine/manifests/3", audits[0].Path);
        Assert.Equal(3, g.Counters.Refused);
    }

    [Theory]
    [InlineData(App + "/manifests/-v1", HttpStatusCode.BadRequest, "invalid_request", "TAG_INVALID")]
    [InlineData(App + "/manifests/sha256:ABC", HttpStatusCode.BadRequest, "invalid_request", "DIGEST_INVALID")]
    [InlineData(App + "/blobs/sha256:abc", HttpStatusCode.BadRequest, "invalid_request", "DIGEST_INVALID")]
    [InlineData(App + "/blobs/sha512:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", HttpStatusCode.BadRequest, "invalid_request", "DIGEST_INVALID")]
    [InlineData("/registry/registry.test/v2/Test/App/manifests/v1", HttpStatusCode.BadRequest, "invalid_request", "NAME_INVALID")]
    [InlineData("/registry/registry.test/v2/test%2fapp/manifests/v1", HttpStatusCode.BadRequest, "invalid_request", "NAME_INVALID")]
    [InlineData("/registry/registry.test/v2/test__-app/manifests/v1", HttpStatusCode.BadRequest, "invalid_request", "NAME_INVALID")]
    [InlineData("/v2/a%40b/manifests/v1", HttpStatusCode.BadRequest, "invalid_request", "NAME_INVALID")]
    [InlineData("/registry/nodots/v2/x/manifests/v1", HttpStatusCode.BadRequest, "invalid_request", "NAME_INVALID")]
    [InlineData("/registry/user@registry.test/v2/x/manifests/v1", HttpStatusCode.BadRequest, "invalid_request", "NAME_INVALID")]
    [InlineData("/registry/registry.test:99999/v2/x/manifests/v1", HttpStatusCode.BadRequest, "invalid_request", "NAME_INVALID")]
    [InlineData("/registry/", HttpStatusCode.BadRequest, "invalid_request", "NAME_INVALID")]
    [InlineData(App + "/tags/list", HttpStatusCode.NotFound, "route_not_found", "UNSUPPORTED")]
    [InlineData("/v2/_catalog", HttpStatusCode.NotFound, "route_not_found", "UNSUPPORTED")]
    [InlineData(App + "/referrers/sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", HttpStatusCode.NotFound, "route_not_found", "UNSUPPORTED")]
    [InlineData("/registry/registry.test/v1/search", HttpStatusCode.NotFound, "route_not_found", "UNSUPPORTED")]
    public async Task Bad_hosts_names_references_and_unserved_endpoints_are_refused_without_asking_the_registry(
        string path, HttpStatusCode status, string reason, string errorCode)
    {
        await using var g = await OciGateway.StartAsync(fixture.Registry.BaseUri);

        using var response = await g.SendAsync(HttpMethod.Get, path);

        await OciGateway.AssertErrorAsync(response, status, reason, errorCode);
        Assert.Empty(g.Upstream.Requests);
        Assert.Equal(reason, Assert.Single(g.Gateway.Audit.Refusals).Reason);
        Assert.Equal(1, g.Counters.Refused);
    }

    [Fact]
    public async Task A_trailing_newline_in_a_tag_is_refused()
    {
        await using var g = await OciGateway.StartAsync(fixture.Registry.BaseUri);

        // Sent raw: an HTTP client would not put %0A in a path for us. The gateway refuses it somewhere before the
        // registry; which layer does is not the point, that nothing goes upstream is.
        var (status, headers) = await g.Gateway.RawAsync(App + "/manifests/v1%0A");

        Assert.Equal(400, status);
        Assert.Equal("invalid_request", headers["X-Cleanroom-Reason-Code"]);
        Assert.Empty(g.Upstream.Requests);
    }

    [Theory]
    [InlineData("PUT", App + "/manifests/v2")]
    [InlineData("POST", App + "/blobs/uploads/")]
    [InlineData("PATCH", App + "/blobs/uploads/0f1e2d3c")]
    [InlineData("DELETE", App + "/manifests/v1")]
    [InlineData("POST", "/v2/library/alpine/blobs/uploads/?mount=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef&from=x")]
    [InlineData("PUT", "/v2/alpine/manifests/3")]
    public async Task Pushes_and_deletes_are_refused_and_never_reach_the_registry(string method, string path)
    {
        await using var g = await OciGateway.StartAsync(fixture.Registry.BaseUri);

        using var response = await g.SendAsync(new HttpMethod(method), path, new ByteArrayContent(fixture.App.ManifestBytes));

        await OciGateway.AssertErrorAsync(response, HttpStatusCode.MethodNotAllowed, "method_not_allowed", "UNSUPPORTED");
        Assert.Equal(["GET", "HEAD"], response.Content.Headers.Allow.Order(StringComparer.Ordinal));
        Assert.Empty(g.Upstream.Requests);
        Assert.Equal(("method_not_allowed", "registry"), (Assert.Single(g.Gateway.Audit.Refusals).Reason, g.Gateway.Audit.Refusals[0].Route));
        using var after = await g.SendAsync(HttpMethod.Get, App + "/manifests/v2");
        Assert.Equal(HttpStatusCode.NotFound, after.StatusCode);
    }

    [Fact]
    public async Task A_tag_past_its_ttl_is_served_stale_and_flagged_when_the_registry_is_down()
    {
        var clock = new ManualTimeProvider();
        await using var g = await OciGateway.StartAsync(fixture.Registry.BaseUri, cacheClock: clock);
        using (var warm = await g.SendAsync(HttpMethod.Get, App + "/manifests/v1"))
        {
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        }

        await g.StopUpstreamAsync();
        clock.Advance(TimeSpan.FromMinutes(6));

        using var stale = await g.SendAsync(HttpMethod.Get, App + "/manifests/v1");
        Assert.Equal(HttpStatusCode.OK, stale.StatusCode);
        Assert.Equal("stale", OciGateway.Header(stale, "X-Cleanroom-Cache"));
        Assert.Contains("110", OciGateway.Header(stale, "Warning"), StringComparison.Ordinal);
        Assert.Equal(fixture.App.ManifestDigest.ToString(), OciGateway.Header(stale, "Docker-Content-Digest"));
        Assert.Equal(fixture.App.ManifestBytes, await stale.Content.ReadAsByteArrayAsync());

        using var cold = await g.SendAsync(HttpMethod.Get, "/registry/registry.test/v2/test/docker/manifests/v1");
        await OciGateway.AssertErrorAsync(cold, HttpStatusCode.BadGateway, "upstream_error", "UNAVAILABLE");

        var counters = g.Counters;
        Assert.Equal((1L, 1L, 1L, 0L), (counters.Misses, counters.StaleServed, counters.UpstreamErrors, counters.Refused));
        Assert.Equal("upstream_error", Assert.Single(g.Gateway.Audit.Refusals).Reason);
    }

    [Fact]
    public async Task A_registry_not_found_is_passed_on_uncached()
    {
        await using var g = await OciGateway.StartAsync(fixture.Registry.BaseUri);

        for (var i = 0; i < 2; i++)
        {
            using var missing = await g.SendAsync(HttpMethod.Get, App + "/manifests/nope");
            await OciGateway.AssertErrorAsync(missing, HttpStatusCode.NotFound, null, "MANIFEST_UNKNOWN");
        }

        Assert.Equal(2, g.UpstreamRequests("/manifests/nope"));
        Assert.Equal(2, g.Counters.Bypassed);
        Assert.Empty(g.Gateway.Audit.Refusals);
    }

    [Fact]
    public async Task A_hundred_concurrent_requests_for_one_blob_make_one_upstream_request()
    {
        await using var g = await OciGateway.StartAsync(fixture.Registry.BaseUri, configure: o => o with { MaxConcurrentRequestsPerSandbox = 200 });
        var layer = fixture.App.Layers[0].Blob;
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 200, UseProxy = false }) { BaseAddress = g.Gateway.BaseUri };

        var bodies = await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => client.GetByteArrayAsync(App + "/blobs/" + layer.Digest)));

        var expected = layer.ReadAllBytes();
        Assert.All(bodies, body => Assert.Equal(expected, body));
        Assert.Equal(1, g.UpstreamRequests("/blobs/" + layer.Digest));
    }
}
