using Cleanroom.Gateway.Cache;

namespace Cleanroom.Gateway.Tests;

public sealed class BlobDigestTests
{
    private const string Hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    [Theory]
    [InlineData(Hex)]
    [InlineData("sha256:" + Hex)]
    [InlineData("E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855")]
    public void Parses_bare_prefixed_and_uppercase_hex_to_lowercase(string text)
    {
        var digest = BlobDigest.Parse(text);
        Assert.Equal(Hex, digest.Hex);
        Assert.Equal("sha256:" + Hex, digest.ToString());
        Assert.Equal(BlobDigest.Of([]), digest);
    }

    [Theory]
    [InlineData("")]
    [InlineData("sha512:" + Hex)]
    [InlineData("../../etc/passwd")]
    [InlineData(Hex + "0")]
    [InlineData("g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    public void Rejects_anything_that_is_not_a_sha256(string text)
    {
        Assert.False(BlobDigest.TryParse(text, out _));
        Assert.Throws<FormatException>(() => BlobDigest.Parse(text));
    }
}
