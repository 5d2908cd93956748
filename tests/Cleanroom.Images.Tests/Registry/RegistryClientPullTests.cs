using System.Net;
using System.Security.Cryptography;
using Cleanroom.Images.Registry;
using Cleanroom.Oci;
using Cleanroom.TestSupport;

namespace Cleanroom.Images.Tests.Registry;

/// <summary>Manifests, digests and blobs from a real docker-registry.</summary>
public sealed class RegistryClientPullTests(RegistryFixture fixture) : IClassFixture<RegistryFixture>
{
    private static CancellationToken Ct => CancellationToken.None;

    [Fact]
    public async Task A_manifest_by_tag_is_the_one_pushed()
    {
        using var client = RegistryFixture.NewClient();

        var manifest = await client.GetManifestAsync(fixture.AppRef, "v1", Ct);

        Assert.Equal(fixture.App.ManifestDigest, manifest.Digest);
        Assert.Equal(MediaTypes.OciManifest, manifest.MediaType);
        Assert.Equal(fixture.App.ConfigBlob.Digest.ToString(), manifest.Manifest!.Config!.Digest);
        Assert.Equal([MediaTypes.OciLayerGzip, MediaTypes.OciLayerZstd], manifest.Manifest.Layers!.Select(l => l.MediaType));
    }

    [Fact]
    public async Task A_manifest_by_digest_is_verified_against_it()
    {
        using var client = RegistryFixture.NewClient();
        var digest = fixture.App.ManifestDigest.ToString();

        var manifest = await client.GetManifestAsync(fixture.AppRef.WithDigest(digest), digest, Ct);

        Assert.Equal(fixture.App.ManifestDigest, manifest.Digest);
        Assert.Equal(fixture.App.ManifestBytes, manifest.Bytes);
    }

    [Fact]
    public async Task A_manifest_whose_bytes_do_not_hash_to_the_digest_asked_for_is_refused()
    {
        // A registry (or a cache in front of it) that answers a digest request with other bytes.
        var other = fixture.DockerTyped.ManifestBytes;
        await using var liar = LoopbackHttpServer.Start(async context =>
        {
            context.Response.ContentType = MediaTypes.DockerManifest;
            context.Response.ContentLength64 = other.Length;
            await context.Response.OutputStream.WriteAsync(other);
        });
        using var client = RegistryFixture.NewClient();
        var digest = fixture.App.ManifestDigest.ToString();

        var error = await Assert.ThrowsAsync<RegistryException>(() =>
            client.GetManifestAsync(ImageReference.Parse($"{liar.Host}/test/app@{digest}"), digest, Ct));

        Assert.Equal(RegistryErrorKind.DigestMismatch, error.Kind);
        Assert.Contains(digest, error.Message, StringComparison.Ordinal);
        Assert.Contains(fixture.DockerTyped.ManifestDigest.ToString(), error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("linux/amd64", 0)]
    [InlineData("linux/arm64/v8", 1)]
    [InlineData("linux/arm64", 1)]
    public async Task An_index_entry_is_chosen_per_platform_and_names_that_platforms_config(string platform, int expectedImage)
    {
        using var client = RegistryFixture.NewClient();
        var expected = fixture.Multi.Images[expectedImage];

        var index = await client.GetManifestAsync(fixture.MultiRef, "latest", Ct);
        var entry = index.SelectPlatform(Platform.Parse(platform));
        var manifest = await client.GetManifestAsync(fixture.MultiRef, entry.Digest, Ct);
        var config = ImageConfigDocument.Parse(await client.GetBlobBytesAsync(fixture.MultiRef, manifest.Manifest!.Config!, ImageConfigDocument.MaxBytes, Ct));

        Assert.Equal(fixture.Multi.Digest, index.Digest);
        Assert.Equal(MediaTypes.OciIndex, index.MediaType);
        Assert.Equal(expected.ManifestDigest, manifest.Digest);
        Assert.Equal(expected.ConfigBlob.Digest.ToString(), manifest.Manifest.Config!.Digest);
        Assert.Equal(expected.Platform.Architecture, config.Architecture);
        Assert.Equal(expected.Config.Config!.Cmd, config.Config!.Cmd);
    }

    [Fact]
    public async Task Docker_v2_media_types_are_read_and_their_layers_download()
    {
        using var client = RegistryFixture.NewClient();

        var manifest = await client.GetManifestAsync(fixture.DockerRef, "v1", Ct);
        var layer = manifest.Manifest!.Layers!.Single();
        var path = fixture.DownloadPath();
        await client.DownloadBlobAsync(fixture.DockerRef, layer, path, null, Ct);

        Assert.Equal(MediaTypes.DockerManifest, manifest.MediaType);
        Assert.Equal(MediaTypes.DockerConfig, manifest.Manifest.Config!.MediaType);
        Assert.Equal(MediaTypes.DockerLayerGzip, layer.MediaType);
        Assert.Equal(fixture.DockerTyped.Layers[0].Blob.ReadAllBytes(), await File.ReadAllBytesAsync(path, Ct));
    }

    [Fact]
    public async Task A_tag_resolves_to_the_digest_the_registry_has_for_it()
    {
        using var client = RegistryFixture.NewClient();

        Assert.Equal(fixture.App.ManifestDigest, await client.ResolveDigestAsync(fixture.AppRef, Ct));
        Assert.Equal(fixture.Multi.Digest, await client.ResolveDigestAsync(fixture.MultiRef, Ct));
    }

    [Fact]
    public async Task A_pinned_reference_resolves_to_its_digest_once_the_registry_confirms_it()
    {
        using var client = RegistryFixture.NewClient();
        var pinned = fixture.AppRef.WithDigest(fixture.App.ManifestDigest.ToString());
        var missing = fixture.AppRef.WithDigest("sha256:" + new string('0', 64));

        Assert.Equal(fixture.App.ManifestDigest, await client.ResolveDigestAsync(pinned, Ct));
        var error = await Assert.ThrowsAsync<RegistryException>(() => client.ResolveDigestAsync(missing, Ct));
        Assert.Equal(RegistryErrorKind.NotFound, error.Kind);
    }

    [Fact]
    public async Task A_missing_tag_is_not_found_and_the_message_names_it()
    {
        using var client = RegistryFixture.NewClient();

        var error = await Assert.ThrowsAsync<RegistryException>(() => client.GetManifestAsync(fixture.AppRef, "nope", Ct));

        Assert.Equal(RegistryErrorKind.NotFound, error.Kind);
        Assert.Contains($"{fixture.Registry.Host}/test/app:nope", error.Message, StringComparison.Ordinal);
        Assert.Contains("MANIFEST_UNKNOWN", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_repository_is_not_found_and_the_message_names_it()
    {
        using var client = RegistryFixture.NewClient();
        var image = ImageReference.Parse(fixture.Registry.Reference("no/such-repo:v1"));

        var resolve = await Assert.ThrowsAsync<RegistryException>(() => client.ResolveDigestAsync(image, Ct));
        var get = await Assert.ThrowsAsync<RegistryException>(() => client.GetManifestAsync(image, "v1", Ct));

        Assert.Equal(RegistryErrorKind.NotFound, resolve.Kind);
        Assert.Equal(RegistryErrorKind.NotFound, get.Kind);
        Assert.Contains("no/such-repo:v1", resolve.Message, StringComparison.Ordinal);
        Assert.Contains("no/such-repo:v1", get.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_config_blob_is_fetched_and_verified()
    {
        using var client = RegistryFixture.NewClient();

        var bytes = await client.GetBlobBytesAsync(fixture.AppRef, fixture.App.ConfigBlob.Descriptor, ImageConfigDocument.MaxBytes, Ct);
        var config = ImageConfigDocument.Parse(bytes);

        Assert.Equal(fixture.App.ConfigBlob.ReadAllBytes(), bytes);
        Assert.Equal(["PATH=/usr/bin:/bin", "GREETING=hello"], config.Config!.Env);
        Assert.Equal("/work", config.Config.WorkingDir);
    }

    [Fact]
    public async Task A_blob_bigger_than_the_callers_limit_is_refused_before_fetching()
    {
        using var client = RegistryFixture.NewClient();

        var error = await Assert.ThrowsAsync<RegistryException>(() =>
            client.GetBlobBytesAsync(fixture.AppRef, fixture.App.Layers[0].Descriptor, 1024, Ct));

        Assert.Equal(RegistryErrorKind.SizeMismatch, error.Kind);
    }

    [Fact]
    public async Task A_layer_downloads_verified_with_progress_and_no_partial_file_left()
    {
        using var client = RegistryFixture.NewClient();
        var layer = fixture.App.Layers[0];
        var path = fixture.DownloadPath();
        var reported = new List<long>();

        await client.DownloadBlobAsync(fixture.AppRef, layer.Descriptor, path, new SynchronousProgress(reported.Add), Ct);

        Assert.Equal(layer.Blob.Digest, Digest.FromHash(SHA256.HashData(await File.ReadAllBytesAsync(path, Ct))));
        Assert.False(File.Exists(path + ".partial"));
        Assert.Equal(layer.Descriptor.Size, reported[^1]);
    }

    [Fact]
    public async Task Several_layers_download_at_once_through_one_client()
    {
        using var client = RegistryFixture.NewClient();
        var layers = fixture.App.Layers.Concat(fixture.Multi.Images[1].Layers).ToList();
        var paths = layers.Select(_ => fixture.DownloadPath()).ToList();

        await Task.WhenAll(layers.Select((l, i) => client.DownloadBlobAsync(fixture.MultiRef, l.Descriptor, paths[i], null, Ct)));

        for (var i = 0; i < layers.Count; i++)
        {
            Assert.Equal(layers[i].Blob.ReadAllBytes(), await File.ReadAllBytesAsync(paths[i], Ct));
        }
    }

    [Fact]
    public async Task Requests_carry_the_user_agent_and_every_manifest_type_in_accept()
    {
        await using var recorder = LoopbackHttpServer.Start(context => HttpForwarder.ForwardAsync(context, fixture.Registry.BaseUri));
        using var client = RegistryFixture.NewClient();

        await client.GetManifestAsync(ImageReference.Parse($"{recorder.Host}/test/app:v1"), "v1", Ct);

        var request = Assert.Single(recorder.Requests);
        Assert.Equal("cleanroom/0.1", request.Header("User-Agent"));
        foreach (var mediaType in MediaTypes.AcceptedManifests)
        {
            Assert.Contains(mediaType, request.Header("Accept"), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_server_error_that_persists_becomes_unavailable_after_the_attempts()
    {
        await using var failing = LoopbackHttpServer.Start(context =>
        {
            context.Response.StatusCode = (int)HttpStatusCode.ServiceUnavailable;
            return Task.CompletedTask;
        });
        using var client = RegistryFixture.NewClient(maxAttempts: 3);

        var error = await Assert.ThrowsAsync<RegistryException>(() =>
            client.GetManifestAsync(ImageReference.Parse($"{failing.Host}/test/app:v1"), "v1", Ct));

        Assert.Equal(RegistryErrorKind.Unavailable, error.Kind);
        Assert.Contains("503", error.Message, StringComparison.Ordinal);
        Assert.Contains("3 attempts", error.Message, StringComparison.Ordinal);
        Assert.Equal(3, failing.Requests.Count);
    }

    [Fact]
    public async Task An_unreachable_registry_is_unavailable()
    {
        var port = FreePort.Next();
        using var client = RegistryFixture.NewClient(maxAttempts: 2);

        var error = await Assert.ThrowsAsync<RegistryException>(() =>
            client.ResolveDigestAsync(ImageReference.Parse($"127.0.0.1:{port}/test/app:v1"), Ct));

        Assert.Equal(RegistryErrorKind.Unavailable, error.Kind);
        Assert.Contains($"127.0.0.1:{port}", error.Message, StringComparison.Ordinal);
    }
}
