using Cleanroom.Images.Tests.Manager;
using Cleanroom.Oci;
using Cleanroom.TestSupport;

namespace Cleanroom.Images.Tests.Hostile;

/// <summary>
/// A registry that declares blobs too large to accept: the pull is refused from the manifest alone, before any blob
/// is requested, with the limit named, and nothing is left in the store.
/// </summary>
public sealed class DownloadLimitTests
{
    private const long TiB = 1L << 40;

    private static CancellationToken Ct => CancellationToken.None;

    [Fact]
    public async Task A_manifest_declaring_a_terabyte_layer_is_refused_before_any_blob_request()
    {
        await using var registry = new ScriptedRegistry();
        registry.ServeManifest("hostile/huge", "v1", HostileManifests.Manifest(configSize: 2, layerSizes: [TiB]), MediaTypes.OciManifest);
        using var scope = new ImageManagerScope(registry: Registry.RegistryFixture.NewClient());

        var error = await Assert.ThrowsAsync<ImageTooLargeException>(() => scope.Manager.EnsureAsync(registry.Reference("hostile/huge:v1"), Ct));

        Assert.Equal("MaxLayerBytes", error.Limit);
        Assert.Contains(TiB.ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message, StringComparison.Ordinal);
        Assert.Contains(registry.Requests, r => r.Method == "GET" && r.PathAndQuery == "/v2/hostile/huge/manifests/v1");
        Assert.Empty(registry.BlobRequests);
        scope.AssertNothingLeft();
    }

    [Fact]
    public async Task Layers_each_within_the_limit_but_too_large_together_are_refused_before_any_blob_request()
    {
        await using var registry = new ScriptedRegistry();
        registry.ServeManifest("hostile/many", "v1", HostileManifests.Manifest(configSize: 2, layerSizes: [.. Enumerable.Repeat(6L << 30, 3)]), MediaTypes.OciManifest);
        using var scope = new ImageManagerScope(registry: Registry.RegistryFixture.NewClient());

        var error = await Assert.ThrowsAsync<ImageTooLargeException>(() => scope.Manager.EnsureAsync(registry.Reference("hostile/many:v1"), Ct));

        Assert.Equal("MaxTotalBytes", error.Limit);
        Assert.Empty(registry.BlobRequests);
        scope.AssertNothingLeft();
    }

    [Fact]
    public async Task A_config_declared_larger_than_the_config_limit_is_refused_before_any_blob_request()
    {
        await using var registry = new ScriptedRegistry();
        registry.ServeManifest("hostile/config", "v1", HostileManifests.Manifest(configSize: 64L << 20, layerSizes: [1024]), MediaTypes.OciManifest);
        using var scope = new ImageManagerScope(registry: Registry.RegistryFixture.NewClient());

        var error = await Assert.ThrowsAsync<ImageTooLargeException>(() => scope.Manager.EnsureAsync(registry.Reference("hostile/config:v1"), Ct));

        Assert.Equal("MaxConfigBytes", error.Limit);
        Assert.Empty(registry.BlobRequests);
        scope.AssertNothingLeft();
    }

    [Fact]
    public async Task An_index_entry_declaring_a_huge_manifest_is_refused_without_fetching_it()
    {
        await using var registry = new ScriptedRegistry();
        var entry = new Descriptor { MediaType = MediaTypes.OciManifest, Digest = HostileManifests.RandomDigest(), Size = 1L << 30, Platform = new DescriptorPlatform { Os = "linux", Architecture = Platform.Host.Architecture, Variant = Platform.Host.Variant } };
        registry.ServeManifest("hostile/index", "v1", OciImageBuilder.Serialize(new ImageIndex { SchemaVersion = 2, MediaType = MediaTypes.OciIndex, Manifests = [entry] }), MediaTypes.OciIndex);
        using var scope = new ImageManagerScope(registry: Registry.RegistryFixture.NewClient());

        var error = await Assert.ThrowsAsync<ImageTooLargeException>(() => scope.Manager.EnsureAsync(registry.Reference("hostile/index:v1"), Ct));

        Assert.Contains(entry.Digest, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(registry.Requests, r => r.PathAndQuery.Contains(entry.Digest, StringComparison.Ordinal));
        scope.AssertNothingLeft();
    }
}
