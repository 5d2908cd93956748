using System.Net;
using Cleanroom.Gateway.Cache;
using Cleanroom.Gateway.Routes.Oci;
using Cleanroom.Oci;
using Cleanroom.TestSupport;

namespace Cleanroom.Gateway.Tests.Oci;

/// <summary>The pull-through against a real docker-registry, behind a recording proxy that stands for the upstream.</summary>
public sealed class OciPullThroughTests(OciRegistryFixture fixture) : IClassFixture<OciRegistryFixture>
{
    [Fact]
    public async Task A_manifest_by_tag_is_fetched_once_then_served_from_the_cache()
    {
        await using var h = new OciHarness(fixture.Registry.BaseUri);

        var first = await h.Manifest("test/app", "v1");
        Assert.Equal(OciCacheResult.Miss, first.Cache);
        Assert.Equal(MediaTypes.OciManifest, first.ContentType);
        Assert.Equal(fixture.App.ManifestDigest.ToString(), first.DockerContentDigest);
        Assert.Equal(fixture.App.ManifestBytes.Length, first.Length);
        Assert.Equal(fixture.App.ManifestBytes, await OciHarness.ReadBody(first));

        var second = await h.Manifest("test/app", "v1");
        Assert.Equal(OciCacheResult.Hit, second.Cache);
        Assert.Equal(fixture.App.ManifestDigest.ToString(), second.DockerContentDigest);
        Assert.Equal(fixture.App.ManifestBytes, await OciHarness.ReadBody(second));

        Assert.Equal(1, h.UpstreamRequests("/v2/test/app/manifests/v1"));
    }

    [Fact]
    public async Task A_tag_fetch_also_caches_the_manifest_by_digest_and_an_index_is_served_as_an_index()
    {
        await using var h = new OciHarness(fixture.Registry.BaseUri);
        await OciHarness.ReadBody(await h.Manifest("test/app", "v1"));

        var byDigest = await h.Manifest("test/app", fixture.App.ManifestDigest.ToString());
        Assert.Equal(OciCacheResult.Hit, byDigest.Cache);
        Assert.Equal(MediaTypes.OciManifest, byDigest.ContentType);
        Assert.Equal(fixture.App.ManifestBytes, await OciHarness.ReadBody(byDigest));
        Assert.Equal(0, h.UpstreamRequests("/manifests/" + fixture.App.ManifestDigest));

        var index = await h.Manifest("test/multi", fixture.Multi.Digest.ToString());
        Assert.Equal(OciCacheResult.Miss, index.Cache);
        Assert.Equal(MediaTypes.OciIndex, index.ContentType);
        Assert.Equal(fixture.Multi.Digest.ToString(), index.DockerContentDigest);
        Assert.Equal(fixture.Multi.Bytes, await OciHarness.ReadBody(index));
        Assert.Equal(OciCacheResult.Hit, (await h.Manifest("test/multi", fixture.Multi.Digest.ToString())).Cache);
        Assert.Equal(1, h.UpstreamRequests("/manifests/" + fixture.Multi.Digest));

        var docker = await h.Manifest("test/docker", "v1");
        Assert.Equal(MediaTypes.DockerManifest, docker.ContentType);
        Assert.Equal(fixture.DockerTyped.ManifestBytes, await OciHarness.ReadBody(docker));
    }

    [Fact]
    public async Task Head_answers_length_digest_and_type_without_a_body_and_warms_the_cache()
    {
        await using var h = new OciHarness(fixture.Registry.BaseUri);
        var layer = fixture.App.Layers[0].Blob;

        await using (var head = await h.Manifest("test/app", "v1", head: true))
        {
            Assert.Equal(200, head.Status);
            Assert.Null(head.Body);
            Assert.Equal(fixture.App.ManifestBytes.Length, head.Length);
            Assert.Equal(fixture.App.ManifestDigest.ToString(), head.DockerContentDigest);
            Assert.Equal(MediaTypes.OciManifest, head.ContentType);
        }

        await using (var head = await h.Blob("test/app", layer.Digest.ToString(), head: true))
        {
            Assert.Equal(200, head.Status);
            Assert.Null(head.Body);
            Assert.Equal(layer.Size, head.Length);
            Assert.Equal(layer.Digest.ToString(), head.DockerContentDigest);
        }

        Assert.Equal(OciCacheResult.Hit, (await h.Manifest("test/app", "v1")).Cache);
        var blob = await h.Blob("test/app", layer.Digest.ToString());
        Assert.Equal(OciCacheResult.Hit, blob.Cache);
        Assert.Equal(layer.ReadAllBytes(), await OciHarness.ReadBody(blob));
        Assert.Equal(1, h.UpstreamRequests("/blobs/" + layer.Digest));
    }

    [Fact]
    public async Task A_blob_is_fetched_verified_and_then_served_from_the_cache()
    {
        await using var h = new OciHarness(fixture.Registry.BaseUri);
        var layer = fixture.App.Layers[0].Blob;

        var first = await h.Blob("test/app", layer.Digest.ToString());
        Assert.Equal(OciCacheResult.Miss, first.Cache);
        Assert.Equal(OciPullThrough.BlobContentType, first.ContentType);
        Assert.Equal(layer.Size, first.Length);
        Assert.Equal(layer.ReadAllBytes(), await OciHarness.ReadBody(first));

        var second = await h.Blob("test/app", layer.Digest.ToString());
        Assert.Equal(OciCacheResult.Hit, second.Cache);
        Assert.Equal(layer.ReadAllBytes(), await OciHarness.ReadBody(second));
        Assert.Equal(1, h.UpstreamRequests("/blobs/" + layer.Digest));
        Assert.NotNull(h.Cache.GetBlob(BlobDigest.Parse(layer.Digest.ToString())));
    }

    [Fact]
    public async Task Concurrent_pulls_of_one_blob_from_two_sandboxes_make_one_upstream_fetch()
    {
        await using var h = new OciHarness(fixture.Registry.BaseUri);
        var second = OciTestPolicies.Client($"[{OciHarness.Host}:443]", "sb-second");
        var layer = fixture.App.Layers[0].Blob;

        var pulls = Enumerable.Range(0, 16)
            .Select(i => Task.Run(async () => await OciHarness.ReadBody(await h.Blob("test/app", layer.Digest.ToString(), client: i % 2 == 0 ? null : second))))
            .ToList();
        var bodies = await Task.WhenAll(pulls);

        Assert.All(bodies, body => Assert.Equal(layer.ReadAllBytes(), body));
        Assert.Equal(1, h.UpstreamRequests("/blobs/" + layer.Digest));
    }

    [Fact]
    public async Task A_blob_whose_bytes_do_not_match_its_digest_is_refused_and_nothing_is_cached()
    {
        var layer = fixture.App.Layers[0].Blob;
        var registry = fixture.Registry.BaseUri;
        await using var h = new OciHarness(registry, upstream: async context =>
        {
            if (context.Request.Url!.AbsolutePath.EndsWith("/blobs/" + layer.Digest, StringComparison.Ordinal))
            {
                // The right length, one byte changed: only the digest can tell.
                var bytes = layer.ReadAllBytes();
                bytes[^1] ^= 0xff;
                context.Response.ContentLength64 = bytes.Length;
                await context.Response.OutputStream.WriteAsync(bytes);
                return;
            }

            await HttpForwarder.ForwardAsync(context, registry);
        });
        var blobsBefore = h.Cache.BlobCount;

        await using var answer = await h.Blob("test/app", layer.Digest.ToString());

        Assert.Equal(502, answer.Status);
        Assert.Equal(OciReasons.UpstreamError, answer.Reason);
        Assert.Contains("do not match the digest", answer.Message, StringComparison.Ordinal);
        Assert.Equal(blobsBefore, h.Cache.BlobCount);
        Assert.Null(h.Cache.GetBlob(BlobDigest.Parse(layer.Digest.ToString())));
        Assert.Equal(CacheFreshness.Missing, h.Cache.Lookup(new CacheKey("oci", "blob", $"public/{OciHarness.Host}/test/app@{layer.Digest}")).Freshness);
    }

    [Fact]
    public async Task A_corrupted_cached_blob_fails_its_read_and_is_fetched_again()
    {
        await using var h = new OciHarness(fixture.Registry.BaseUri);
        var layer = fixture.App.Layers[0].Blob;
        await OciHarness.ReadBody(await h.Blob("test/app", layer.Digest.ToString()));
        var path = h.Cache.Store.PathOf(BlobDigest.Parse(layer.Digest.ToString()));
        var bytes = await File.ReadAllBytesAsync(path);
        bytes[100] ^= 0x01;
        await File.WriteAllBytesAsync(path, bytes);

        var corrupt = await h.Blob("test/app", layer.Digest.ToString());
        Assert.Equal(OciCacheResult.Hit, corrupt.Cache);
        await Assert.ThrowsAsync<CacheIntegrityException>(() => OciHarness.ReadBody(corrupt));

        var again = await h.Blob("test/app", layer.Digest.ToString());
        Assert.Equal(OciCacheResult.Miss, again.Cache);
        Assert.Equal(layer.ReadAllBytes(), await OciHarness.ReadBody(again));
        Assert.Equal(2, h.UpstreamRequests("/blobs/" + layer.Digest));
    }

    [Fact]
    public async Task A_corrupted_cached_manifest_is_noticed_before_serving_and_fetched_again()
    {
        await using var h = new OciHarness(fixture.Registry.BaseUri);
        await OciHarness.ReadBody(await h.Manifest("test/app", "v1"));
        var path = h.Cache.Store.PathOf(BlobDigest.Parse(fixture.App.ManifestDigest.ToString()));
        var bytes = await File.ReadAllBytesAsync(path);
        bytes[10] ^= 0x01;
        await File.WriteAllBytesAsync(path, bytes);

        var answer = await h.Manifest("test/app", "v1");

        Assert.Equal(OciCacheResult.Miss, answer.Cache);
        Assert.Equal(fixture.App.ManifestBytes, await OciHarness.ReadBody(answer));
        Assert.Equal(2, h.UpstreamRequests("/v2/test/app/manifests/v1"));
    }

    [Fact]
    public async Task A_sandbox_whose_policy_does_not_allow_the_registry_is_refused_even_on_a_cache_hit()
    {
        await using var h = new OciHarness(fixture.Registry.BaseUri);
        var other = OciTestPolicies.Client("[other.test:443, registry.test:80]", "sb-other");
        await OciHarness.ReadBody(await h.Manifest("test/app", "v1"));
        var requests = h.Upstream.Requests.Count;

        await using var manifest = await h.Manifest("test/app", "v1", client: other);
        await using var blob = await h.Blob("test/app", fixture.App.Layers[0].Blob.Digest.ToString(), client: other);
        await using var ping = OciPullThrough.Ping(other, OciHarness.Host);

        foreach (var answer in new[] { manifest, blob, ping })
        {
            Assert.Equal(403, answer.Status);
            Assert.Equal("host_not_allowed", answer.Reason);
            Assert.Equal(OciErrorCodes.Denied, answer.ErrorCode);
            Assert.Null(answer.Body);
        }

        Assert.Equal(requests, h.Upstream.Requests.Count);
        Assert.Equal(200, OciPullThrough.Ping(OciHarness.Allowed, OciHarness.Host).Status);
        var all = new Cleanroom.Gateway.Server.GatewayClient("sb-all", Cleanroom.Policy.NetworkPolicy.DenyAll, AllowAll: true);
        Assert.Equal(OciCacheResult.Hit, (await h.Manifest("test/app", "v1", client: all)).Cache);
    }

    [Fact]
    public async Task With_the_upstream_gone_a_warm_tag_is_served_stale_and_flagged_and_blobs_still_hit()
    {
        await using var h = new OciHarness(fixture.Registry.BaseUri);
        var layer = fixture.App.Layers[1].Blob;
        await OciHarness.ReadBody(await h.Manifest("test/app", "v1"));
        await OciHarness.ReadBody(await h.Blob("test/app", layer.Digest.ToString()));
        await h.StopUpstreamAsync();

        Assert.Equal(OciCacheResult.Hit, (await h.Manifest("test/app", "v1")).Cache);
        h.Clock.Advance(TimeSpan.FromMinutes(6));
        var stale = await h.Manifest("test/app", "v1");

        Assert.Equal(OciCacheResult.Stale, stale.Cache);
        Assert.Contains("could not reach", stale.StaleBecause, StringComparison.Ordinal);
        Assert.Equal(fixture.App.ManifestDigest.ToString(), stale.DockerContentDigest);
        Assert.Equal(fixture.App.ManifestBytes, await OciHarness.ReadBody(stale));
        Assert.Equal(OciCacheResult.Hit, (await h.Manifest("test/app", fixture.App.ManifestDigest.ToString())).Cache);
        Assert.Equal(layer.ReadAllBytes(), await OciHarness.ReadBody(await h.Blob("test/app", layer.Digest.ToString())));

        await using var cold = await h.Manifest("test/docker", "v1");
        Assert.Equal(502, cold.Status);
        Assert.Equal(OciReasons.UpstreamError, cold.Reason);
        Assert.Equal(OciErrorCodes.Unavailable, cold.ErrorCode);
    }

    [Fact]
    public async Task A_registry_answering_503_is_retried_then_the_stale_tag_is_served()
    {
        var failing = false;
        var registry = fixture.Registry.BaseUri;
        await using var h = new OciHarness(registry, upstream: context =>
        {
            if (Volatile.Read(ref failing))
            {
                context.Response.StatusCode = (int)HttpStatusCode.ServiceUnavailable;
                return Task.CompletedTask;
            }

            return HttpForwarder.ForwardAsync(context, registry);
        });
        await OciHarness.ReadBody(await h.Manifest("test/app", "v1"));
        Volatile.Write(ref failing, true);
        h.Clock.Advance(TimeSpan.FromMinutes(6));

        var stale = await h.Manifest("test/app", "v1");

        Assert.Equal(OciCacheResult.Stale, stale.Cache);
        Assert.Contains("503", stale.StaleBecause, StringComparison.Ordinal);
        Assert.Equal(fixture.App.ManifestBytes, await OciHarness.ReadBody(stale));
        Assert.Equal(3, h.UpstreamRequests("/v2/test/app/manifests/v1"));
    }

    [Fact]
    public async Task A_tag_the_registry_no_longer_has_is_not_served_stale()
    {
        var gone = false;
        var registry = fixture.Registry.BaseUri;
        await using var h = new OciHarness(registry, upstream: context =>
        {
            if (Volatile.Read(ref gone))
            {
                context.Response.StatusCode = (int)HttpStatusCode.NotFound;
                return Task.CompletedTask;
            }

            return HttpForwarder.ForwardAsync(context, registry);
        });
        await OciHarness.ReadBody(await h.Manifest("test/app", "v1"));
        Volatile.Write(ref gone, true);
        h.Clock.Advance(TimeSpan.FromMinutes(6));

        await using var answer = await h.Manifest("test/app", "v1");

        Assert.Equal(404, answer.Status);
        Assert.Equal(OciErrorCodes.ManifestUnknown, answer.ErrorCode);
        Assert.Null(answer.Cache);
    }

    [Fact]
    public async Task Unknown_manifests_and_blobs_are_404_with_the_spec_error_code()
    {
        await using var h = new OciHarness(fixture.Registry.BaseUri);
        await using var manifest = await h.Manifest("test/app", "no-such-tag");
        await using var blob = await h.Blob("test/app", "sha256:" + new string('0', 64));

        Assert.Equal(404, manifest.Status);
        Assert.Equal(OciErrorCodes.ManifestUnknown, manifest.ErrorCode);
        Assert.Contains("MANIFEST_UNKNOWN", System.Text.Encoding.UTF8.GetString(manifest.ErrorBody()), StringComparison.Ordinal);
        Assert.Equal(404, blob.Status);
        Assert.Equal(OciErrorCodes.BlobUnknown, blob.ErrorCode);
        Assert.Equal(0, h.Cache.BlobCount);
    }

    [Theory]
    [InlineData("Test/App", "v1", OciErrorCodes.NameInvalid)]
    [InlineData("test//app", "v1", OciErrorCodes.NameInvalid)]
    [InlineData("test/app/", "v1", OciErrorCodes.NameInvalid)]
    [InlineData("test/../app", "v1", OciErrorCodes.NameInvalid)]
    [InlineData("test/app", "-v1", OciErrorCodes.TagInvalid)]
    [InlineData("test/app", "v1\n", OciErrorCodes.TagInvalid)]
    [InlineData("test/app", "sha256:ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789", OciErrorCodes.DigestInvalid)]
    [InlineData("test/app", "sha512:abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789", OciErrorCodes.DigestInvalid)]
    public async Task Bad_names_and_references_are_refused_before_anything_goes_upstream(string repository, string reference, string code)
    {
        await using var h = new OciHarness(fixture.Registry.BaseUri);

        await using var answer = await h.Manifest(repository, reference);

        Assert.Equal(400, answer.Status);
        Assert.Equal(OciReasons.InvalidRequest, answer.Reason);
        Assert.Equal(code, answer.ErrorCode);
        Assert.Empty(h.Upstream.Requests);
    }

    [Theory]
    [InlineData("v1")]
    [InlineData("sha256:abc")]
    [InlineData("sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeF")]
    [InlineData("md5:0123456789abcdef0123456789abcdef")]
    public async Task A_blob_is_asked_for_by_a_sha256_digest_only(string digest)
    {
        await using var h = new OciHarness(fixture.Registry.BaseUri);

        await using var answer = await h.Blob("test/app", digest);

        Assert.Equal(400, answer.Status);
        Assert.Equal(OciErrorCodes.DigestInvalid, answer.ErrorCode);
        Assert.Empty(h.Upstream.Requests);
    }

    [Theory]
    [InlineData("registry")]
    [InlineData("bad host.test")]
    [InlineData("registry.test:0")]
    [InlineData("registry.test:99999")]
    [InlineData("-x.test")]
    [InlineData("registry.test/evil")]
    [InlineData("user@registry.test")]
    public async Task A_malformed_registry_host_is_refused(string host)
    {
        await using var h = new OciHarness(fixture.Registry.BaseUri);
        var all = new Cleanroom.Gateway.Server.GatewayClient("sb-all", Cleanroom.Policy.NetworkPolicy.DenyAll, AllowAll: true);

        await using var answer = await h.PullThrough.ManifestAsync(all, host, "test/app", "v1", false, CancellationToken.None);

        Assert.Equal(400, answer.Status);
        Assert.Equal(OciErrorCodes.NameInvalid, answer.ErrorCode);
        Assert.Empty(h.Upstream.Requests);
    }

    [Fact]
    public async Task A_manifest_over_the_bound_is_refused_and_not_cached()
    {
        Assert.True(fixture.Big.ManifestBytes.Length > 4096);
        await using var h = new OciHarness(fixture.Registry.BaseUri, maxManifestBytes: 4096);

        await using var answer = await h.Manifest("test/big", "v1");

        Assert.Equal(502, answer.Status);
        Assert.Equal("image_too_large", answer.Reason);
        Assert.Equal(OciErrorCodes.SizeInvalid, answer.ErrorCode);
        Assert.Equal(0, h.Cache.BlobCount);
        Assert.Equal(OciCacheResult.Miss, (await h.Manifest("test/app", "v1")).Cache);
    }

    [Fact]
    public async Task Docker_hub_names_without_a_namespace_get_library_and_the_policy_is_asked_about_docker_io()
    {
        await using var h = new OciHarness(fixture.Registry.BaseUri, host: "docker.io");
        var hub = OciTestPolicies.Client("[docker.io:443]", "sb-hub");

        var answer = await h.PullThrough.ManifestAsync(hub, "docker.io", "alpine", "3", false, CancellationToken.None);

        Assert.Equal(fixture.App.ManifestBytes, await OciHarness.ReadBody(answer));
        Assert.Equal(1, h.UpstreamRequests("/v2/library/alpine/manifests/3"));
        await using var refused = await h.PullThrough.ManifestAsync(OciHarness.Allowed, "docker.io", "alpine", "3", false, CancellationToken.None);
        Assert.Equal(403, refused.Status);
    }
}
