using Cleanroom.Images.Registry;
using Cleanroom.Oci;
using Cleanroom.TestSupport;

namespace Cleanroom.Images.Tests.Registry;

/// <summary>
/// Resumable, bounded, verified downloads against a real registry whose stored blobs the tests damage, and against
/// manifests that lie about layer sizes. Each test pushes its own image, so damage never leaks into another test.
/// </summary>
public sealed class BlobDownloadTests(RegistryFixture fixture) : IClassFixture<RegistryFixture>
{
    private static CancellationToken Ct => CancellationToken.None;

    [Fact]
    public async Task A_correct_partial_file_is_resumed_with_a_range_request()
    {
        var image = await fixture.PushUniqueImageAsync("resume/good", 512 * 1024);
        var layer = image.Layers[0];
        var bytes = layer.Blob.ReadAllBytes();
        var path = fixture.DownloadPath();
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllBytesAsync(path + ".partial", bytes[..(bytes.Length / 2)], Ct);
        await using var recorder = LoopbackHttpServer.Start(context => HttpForwarder.ForwardAsync(context, fixture.Registry.BaseUri));
        using var client = RegistryFixture.NewClient();

        await client.DownloadBlobAsync(ImageReference.Parse($"{recorder.Host}/resume/good:v1"), layer.Descriptor, path, null, Ct);

        Assert.Equal(bytes, await File.ReadAllBytesAsync(path, Ct));
        Assert.False(File.Exists(path + ".partial"));
        var request = Assert.Single(recorder.Requests);
        Assert.Equal($"bytes={bytes.Length / 2}-", request.Header("Range"));
    }

    [Fact]
    public async Task A_partial_file_with_a_wrong_prefix_is_detected_and_downloaded_again_from_the_start()
    {
        var image = await fixture.PushUniqueImageAsync("resume/bad", 256 * 1024);
        var layer = image.Layers[0];
        var bytes = layer.Blob.ReadAllBytes();
        var path = fixture.DownloadPath();
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllBytesAsync(path + ".partial", DeterministicContentStream.Bytes(bytes.Length / 3, seed: 77), Ct);
        await using var recorder = LoopbackHttpServer.Start(context => HttpForwarder.ForwardAsync(context, fixture.Registry.BaseUri));
        using var client = RegistryFixture.NewClient();

        await client.DownloadBlobAsync(ImageReference.Parse($"{recorder.Host}/resume/bad:v1"), layer.Descriptor, path, null, Ct);

        Assert.Equal(bytes, await File.ReadAllBytesAsync(path, Ct));
        Assert.False(File.Exists(path + ".partial"));
        Assert.Equal([$"bytes={bytes.Length / 3}-", null], recorder.Requests.Select(r => r.Header("Range")));
    }

    [Fact]
    public async Task A_partial_file_longer_than_the_blob_is_discarded()
    {
        var image = await fixture.PushUniqueImageAsync("resume/long");
        var layer = image.Layers[0];
        var path = fixture.DownloadPath();
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllBytesAsync(path + ".partial", new byte[layer.Descriptor.Size + 10], Ct);
        using var client = RegistryFixture.NewClient();

        await client.DownloadBlobAsync(ImageReference.Parse(fixture.Registry.Reference("resume/long:v1")), layer.Descriptor, path, null, Ct);

        Assert.Equal(layer.Blob.ReadAllBytes(), await File.ReadAllBytesAsync(path, Ct));
    }

    [Fact]
    public async Task A_corrupted_stored_blob_is_a_digest_mismatch_and_leaves_nothing_behind()
    {
        var image = await fixture.PushUniqueImageAsync("damage/corrupt");
        var layer = image.Layers[0];
        var stored = fixture.Registry.BlobDataPath(layer.Blob.Digest);
        var bytes = await File.ReadAllBytesAsync(stored, Ct);
        bytes[bytes.Length / 2] ^= 0xff;
        await File.WriteAllBytesAsync(stored, bytes, Ct);
        var path = fixture.DownloadPath();
        using var client = RegistryFixture.NewClient();

        var error = await Assert.ThrowsAsync<RegistryException>(() =>
            client.DownloadBlobAsync(ImageReference.Parse(fixture.Registry.Reference("damage/corrupt:v1")), layer.Descriptor, path, null, Ct));

        Assert.Equal(RegistryErrorKind.DigestMismatch, error.Kind);
        Assert.Contains(layer.Blob.Digest.ToString(), error.Message, StringComparison.Ordinal);
        Assert.Contains("damage/corrupt", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(path));
        Assert.False(File.Exists(path + ".partial"));
    }

    [Fact]
    public async Task A_truncated_stored_blob_is_a_size_mismatch_and_leaves_nothing_behind()
    {
        var image = await fixture.PushUniqueImageAsync("damage/truncated");
        var layer = image.Layers[0];
        var stored = fixture.Registry.BlobDataPath(layer.Blob.Digest);
        await using (var file = new FileStream(stored, FileMode.Open, FileAccess.Write))
        {
            file.SetLength(file.Length / 2);
        }

        var path = fixture.DownloadPath();
        using var client = RegistryFixture.NewClient();

        var error = await Assert.ThrowsAsync<RegistryException>(() =>
            client.DownloadBlobAsync(ImageReference.Parse(fixture.Registry.Reference("damage/truncated:v1")), layer.Descriptor, path, null, Ct));

        Assert.Equal(RegistryErrorKind.SizeMismatch, error.Kind);
        Assert.Contains("truncated", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(path));
        Assert.False(File.Exists(path + ".partial"));
    }

    [Fact]
    public async Task A_manifest_claiming_a_bigger_layer_than_stored_fails_as_truncated()
    {
        var (manifest, layer) = await PushLyingManifestAsync("lie/bigger", sizeDelta: +100);
        var path = fixture.DownloadPath();
        using var client = RegistryFixture.NewClient();

        var error = await Assert.ThrowsAsync<RegistryException>(() =>
            client.DownloadBlobAsync(manifest, layer, path, null, Ct));

        Assert.Equal(RegistryErrorKind.SizeMismatch, error.Kind);
        Assert.Contains("truncated", error.Message, StringComparison.Ordinal);
        Assert.Contains($"manifest says {layer.Size}", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(path + ".partial"));
    }

    [Fact]
    public async Task A_manifest_claiming_a_smaller_layer_than_stored_fails_without_reading_past_the_claim()
    {
        var (manifest, layer) = await PushLyingManifestAsync("lie/smaller", sizeDelta: -100);
        var path = fixture.DownloadPath();
        using var client = RegistryFixture.NewClient();

        var error = await Assert.ThrowsAsync<RegistryException>(() =>
            client.DownloadBlobAsync(manifest, layer, path, null, Ct));

        Assert.Equal(RegistryErrorKind.SizeMismatch, error.Kind);
        Assert.Contains("larger than the manifest says", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(path));
        Assert.False(File.Exists(path + ".partial"));
    }

    [Fact]
    public async Task A_config_whose_descriptor_lies_about_its_size_is_refused()
    {
        var image = await fixture.PushUniqueImageAsync("lie/config");
        var reference = ImageReference.Parse(fixture.Registry.Reference("lie/config:v1"));
        using var client = RegistryFixture.NewClient();
        var config = image.ConfigBlob.Descriptor;

        var bigger = await Assert.ThrowsAsync<RegistryException>(() => client.GetBlobBytesAsync(reference, config with { Size = config.Size + 1 }, 1 << 20, Ct));
        var smaller = await Assert.ThrowsAsync<RegistryException>(() => client.GetBlobBytesAsync(reference, config with { Size = config.Size - 1 }, 1 << 20, Ct));

        Assert.Equal(RegistryErrorKind.SizeMismatch, bigger.Kind);
        Assert.Equal(RegistryErrorKind.SizeMismatch, smaller.Kind);
        Assert.Contains("larger than its descriptor", smaller.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_zero_byte_blob_needs_no_request()
    {
        var empty = new Descriptor { MediaType = MediaTypes.OciLayerTar, Digest = Digest.Of([]).ToString(), Size = 0 };
        var path = fixture.DownloadPath();
        using var client = RegistryFixture.NewClient();

        await client.DownloadBlobAsync(ImageReference.Parse($"127.0.0.1:{FreePort.Next()}/nothing/here:v1"), empty, path, null, Ct);

        Assert.Empty(await File.ReadAllBytesAsync(path, Ct));
    }

    /// <summary>
    /// Pushes a manifest whose only layer descriptor has the right digest and a wrong size (docker-registry accepts
    /// it: it checks that referenced blobs exist, not their sizes), then reads it back through the client.
    /// </summary>
    private async Task<(ImageReference Image, Descriptor Layer)> PushLyingManifestAsync(string repository, long sizeDelta)
    {
        var image = await fixture.PushUniqueImageAsync(repository);
        var real = image.Layers[0].Descriptor;
        var lying = image.Manifest with { Layers = [real with { Size = real.Size + sizeDelta }] };
        await fixture.Pusher.PushManifestAsync(repository, "lying", OciImageBuilder.Serialize(lying), MediaTypes.OciManifest);
        var reference = ImageReference.Parse(fixture.Registry.Reference(repository + ":lying"));
        using var client = RegistryFixture.NewClient();
        var manifest = await client.GetManifestAsync(reference, "lying", Ct);
        return (reference, manifest.Manifest!.Layers!.Single());
    }
}
