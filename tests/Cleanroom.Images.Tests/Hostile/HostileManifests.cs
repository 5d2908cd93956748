using System.Security.Cryptography;
using Cleanroom.Oci;
using Cleanroom.TestSupport;

namespace Cleanroom.Images.Tests.Hostile;

/// <summary>Manifests a hostile registry might serve: declared sizes and strings chosen by the test, blobs that need not exist.</summary>
internal static class HostileManifests
{
    /// <summary>A digest no blob has (random bytes hashed), for descriptors whose blob must never be requested.</summary>
    public static string RandomDigest() => Digest.Of(RandomNumberGenerator.GetBytes(32)).ToString();

    public static byte[] Manifest(long configSize, IEnumerable<long> layerSizes, string layerMediaType = MediaTypes.OciLayerGzip, string configMediaType = MediaTypes.OciConfig) =>
        OciImageBuilder.Serialize(new ImageManifest
        {
            SchemaVersion = 2,
            MediaType = MediaTypes.OciManifest,
            Config = new Descriptor { MediaType = configMediaType, Digest = RandomDigest(), Size = configSize },
            Layers = [.. layerSizes.Select(size => new Descriptor { MediaType = layerMediaType, Digest = RandomDigest(), Size = size })],
        });
}
