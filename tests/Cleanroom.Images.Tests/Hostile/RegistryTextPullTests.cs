using System.Text.Json;
using Cleanroom.Images.Registry;
using Cleanroom.Images.Tests.Manager;
using Cleanroom.Oci;
using Cleanroom.TestSupport;

namespace Cleanroom.Images.Tests.Hostile;

/// <summary>
/// A registry that puts terminal escapes or forged log lines into media types and platform fields: the pull is
/// refused, the error (and the log) carries none of it, and nothing reaches the store.
/// </summary>
public sealed class RegistryTextPullTests
{
    private const string ClearScreen = "\u001b[2J";
    private const string ForgedLine = "\nlevel: error msg=forged";

    private static CancellationToken Ct => CancellationToken.None;

    [Theory]
    [InlineData(ClearScreen)]
    [InlineData(ForgedLine)]
    public async Task A_hostile_media_type_refuses_the_manifest_before_any_blob_request(string hostile)
    {
        await using var registry = new ScriptedRegistry();
        registry.ServeManifest("hostile/mediatype", "v1", HostileManifests.Manifest(2, [1024], configMediaType: MediaTypes.OciConfig + hostile), MediaTypes.OciManifest);
        var log = new Registry.RecordingLogger();
        using var scope = new ImageManagerScope(registry: Registry.RegistryFixture.NewClient(logger: log));

        var error = await Assert.ThrowsAsync<RegistryException>(() => scope.Manager.EnsureAsync(registry.Reference("hostile/mediatype:v1"), Ct));

        Assert.Equal(RegistryErrorKind.Protocol, error.Kind);
        Assert.Contains("media type", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(error.Message, char.IsControl);
        Assert.DoesNotContain(log.Entries, e => e.Message.Any(char.IsControl));
        Assert.Empty(registry.BlobRequests);
        scope.AssertNothingLeft();
    }

    [Theory]
    [InlineData(ClearScreen)]
    [InlineData(ForgedLine)]
    public async Task A_hostile_platform_in_the_image_config_is_refused_and_leaves_nothing(string hostile)
    {
        await using var registry = new ScriptedRegistry();
        var config = JsonSerializer.SerializeToUtf8Bytes(new ImageConfigFile { Os = "linux" + hostile, Architecture = Platform.Host.Architecture }, OciJsonContext.Default.ImageConfigFile);
        var configDigest = registry.ServeBlob("hostile/platform", config);
        var layer = new Descriptor { MediaType = MediaTypes.OciLayerGzip, Digest = HostileManifests.RandomDigest(), Size = 1024 };
        var manifest = new ImageManifest
        {
            SchemaVersion = 2,
            MediaType = MediaTypes.OciManifest,
            Config = new Descriptor { MediaType = MediaTypes.OciConfig, Digest = configDigest.ToString(), Size = config.Length },
            Layers = [layer],
        };
        registry.ServeManifest("hostile/platform", "v1", OciImageBuilder.Serialize(manifest), MediaTypes.OciManifest);
        using var scope = new ImageManagerScope(registry: Registry.RegistryFixture.NewClient());

        var error = await Assert.ThrowsAsync<FormatException>(() => scope.Manager.EnsureAsync(registry.Reference("hostile/platform:v1"), Ct));

        Assert.Contains("platform os", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(error.Message, char.IsControl);
        Assert.Contains(registry.BlobRequests, r => r.PathAndQuery.EndsWith(configDigest.ToString(), StringComparison.Ordinal));
        Assert.DoesNotContain(registry.BlobRequests, r => r.PathAndQuery.EndsWith(layer.Digest, StringComparison.Ordinal));
        scope.AssertNothingLeft();
    }
}
