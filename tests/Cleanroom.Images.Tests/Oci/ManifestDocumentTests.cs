using System.Text;
using Cleanroom.Oci;

namespace Cleanroom.Images.Tests.Oci;

/// <summary>Manifests come from untrusted registries and archives: shape, digests and layer types are checked once.</summary>
public sealed class ManifestDocumentTests
{
    private static readonly string A = "sha256:" + new string('a', 64);
    private static readonly string B = "sha256:" + new string('b', 64);

    [Fact]
    public void An_image_manifest_parses_with_its_digest_over_the_exact_bytes()
    {
        var bytes = Manifest(MediaTypes.OciLayerGzip, A);

        var document = ManifestDocument.Parse(bytes, "application/vnd.oci.image.manifest.v1+json; charset=utf-8");

        Assert.NotNull(document.Manifest);
        Assert.Equal(Digest.Of(bytes), document.Digest);
        Assert.Equal(A, Assert.Single(document.Manifest.Layers!).Digest);
    }

    [Fact]
    public void An_index_selects_the_host_platform_and_arm64_matches_without_variant()
    {
        var json = $$$"""
            {"schemaVersion":2,"mediaType":"{{{MediaTypes.OciIndex}}}","manifests":[
              {"mediaType":"{{{MediaTypes.OciManifest}}}","digest":"{{{A}}}","size":10,"platform":{"os":"linux","architecture":"amd64"}},
              {"mediaType":"{{{MediaTypes.OciManifest}}}","digest":"{{{B}}}","size":10,"platform":{"os":"linux","architecture":"arm64"}}]}
            """;

        var document = ManifestDocument.Parse(Encoding.UTF8.GetBytes(json), null);

        Assert.Equal(A, document.SelectPlatform(Platform.Parse("linux/amd64")).Digest);
        Assert.Equal(B, document.SelectPlatform(Platform.Parse("linux/arm64/v8")).Digest);
        var missing = Assert.Throws<FormatException>(() => document.SelectPlatform(Platform.Parse("linux/riscv64")));
        Assert.Contains("linux/amd64, linux/arm64", missing.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("application/vnd.oci.image.layer.v1.tar+lz4", "not an image layer")]
    [InlineData("application/vnd.oci.image.layer.v1.tar+gzip", "sha256:")]
    public void Unusable_layers_are_refused(string mediaType, string expected)
    {
        var digest = expected == "sha256:" ? "md5:abc" : A;

        var error = Assert.Throws<FormatException>(() => ManifestDocument.Parse(Manifest(mediaType, digest), null));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Schema_version_1_and_oversized_documents_are_refused()
    {
        Assert.Contains("schemaVersion 1", Assert.Throws<FormatException>(() => ManifestDocument.Parse("{\"schemaVersion\":1}"u8.ToArray(), null)).Message, StringComparison.Ordinal);
        Assert.Contains("limit", Assert.Throws<FormatException>(() => ManifestDocument.Parse(new byte[ManifestDocument.MaxBytes + 1], null)).Message, StringComparison.Ordinal);
    }

    private static byte[] Manifest(string layerType, string layerDigest) => Encoding.UTF8.GetBytes($$"""
        {"schemaVersion":2,"mediaType":"{{MediaTypes.OciManifest}}",
         "config":{"mediaType":"{{MediaTypes.OciConfig}}","digest":"{{B}}","size":2},
         "layers":[{"mediaType":"{{layerType}}","digest":"{{layerDigest}}","size":100}]}
        """);
}
