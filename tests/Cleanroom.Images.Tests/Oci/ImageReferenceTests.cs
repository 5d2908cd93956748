using Cleanroom.Oci;

namespace Cleanroom.Images.Tests.Oci;

/// <summary>How a reference maps to the registry and repository path a client talks to.</summary>
public sealed class ImageReferenceTests
{
    [Theory]
    [InlineData("alpine", "docker.io", "library/alpine", "latest")]
    [InlineData("alpine:3.20", "docker.io", "library/alpine", "3.20")]
    [InlineData("bitnami/redis:7", "docker.io", "bitnami/redis", "7")]
    [InlineData("docker.io/alpine", "docker.io", "library/alpine", "latest")]
    [InlineData("index.docker.io/library/alpine", "docker.io", "library/alpine", "latest")]
    [InlineData("ghcr.io/buildkite/cleanroom-base/alpine:latest", "ghcr.io", "buildkite/cleanroom-base/alpine", "latest")]
    [InlineData("127.0.0.1:5000/test/img:v1", "127.0.0.1:5000", "test/img", "v1")]
    [InlineData("localhost/img", "localhost", "img", "latest")]
    public void Registry_and_path_are_normalised(string text, string registry, string path, string manifestReference)
    {
        var reference = ImageReference.Parse(text);

        Assert.Equal(registry, reference.Registry);
        Assert.Equal(path, reference.Path);
        Assert.Equal(manifestReference, reference.ManifestReference);
    }

    [Fact]
    public void A_digest_is_what_gets_asked_for_when_pinned()
    {
        var digest = "sha256:" + new string('a', 64);

        var reference = ImageReference.Parse("ghcr.io/o/r:tag@" + digest.ToUpperInvariant().Replace("SHA256", "sha256", StringComparison.Ordinal));

        Assert.Equal(digest, reference.ManifestReference);
        Assert.Equal("ghcr.io/o/r@" + digest, reference.WithDigest(digest).Reference);
    }

    [Theory]
    [InlineData("")]
    [InlineData("Alpine")]
    [InlineData("https://ghcr.io/x")]
    [InlineData("ghcr.io/x@sha512:abc")]
    public void Bad_references_explain_themselves(string text)
    {
        var error = Assert.Throws<FormatException>(() => ImageReference.Parse(text));

        Assert.Contains("not a valid image reference", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_trailing_newline_is_not_part_of_any_name()
    {
        // .NET's '$' also matches before a final newline; the grammar must end at the end of the text.
        const string hex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        Assert.False(Digest.TryParse("sha256:" + hex + "\n", out _));
        Assert.True(Digest.TryParse("sha256:" + hex, out _));
    }
}
