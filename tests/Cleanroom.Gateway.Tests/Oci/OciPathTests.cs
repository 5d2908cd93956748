using Cleanroom.Gateway.Routes.Oci;

namespace Cleanroom.Gateway.Tests.Oci;

public sealed class OciPathTests
{
    private const string Digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    [Theory]
    [InlineData("v2", OciRequestKind.Ping, "", "")]
    [InlineData("v2/", OciRequestKind.Ping, "", "")]
    [InlineData("v2/alpine/manifests/3.20", OciRequestKind.Manifest, "alpine", "3.20")]
    [InlineData("v2/library/alpine/manifests/latest", OciRequestKind.Manifest, "library/alpine", "latest")]
    [InlineData("v2/a/b/c/manifests/" + Digest, OciRequestKind.Manifest, "a/b/c", Digest)]
    [InlineData("v2/org/app/blobs/" + Digest, OciRequestKind.Blob, "org/app", Digest)]
    [InlineData("v2/my-org/my__app.x/manifests/_Tag-1.0", OciRequestKind.Manifest, "my-org/my__app.x", "_Tag-1.0")]
    [InlineData("v2/a---b/manifests/v1", OciRequestKind.Manifest, "a---b", "v1")]
    [InlineData("v2/team/manifests/x/manifests/v1", OciRequestKind.Manifest, "team/manifests/x", "v1")]
    public void Valid_paths_parse(string path, OciRequestKind kind, string name, string reference)
    {
        Assert.True(OciPath.TryParse(path, out var request, out var error), error);
        Assert.Equal(new OciRequest(kind, name, reference), request);
    }

    [Theory]
    [InlineData("", "distribution API")]
    [InlineData("v1/alpine/manifests/latest", "distribution API")]
    [InlineData("v2/alpine", "expected")]
    [InlineData("v2/alpine/tags/list", "only manifests and blobs")]
    [InlineData("v2/alpine/blobs/uploads/", "only manifests and blobs")]
    [InlineData("v2/alpine/referrers/" + Digest, "only manifests and blobs")]
    [InlineData("v2/Alpine/manifests/latest", "not a repository name")]
    [InlineData("v2/a__-b/manifests/latest", "not a repository name")]
    [InlineData("v2/a./manifests/latest", "not a repository name")]
    [InlineData("v2/.a/manifests/latest", "not a repository name")]
    [InlineData("v2//a/manifests/latest", "not a repository name")]
    [InlineData("v2/a/../b/manifests/latest", "not a repository name")]
    [InlineData("v2/a%2fb/manifests/latest", "not a repository name")]
    [InlineData("v2/alpine/manifests/", "not a tag")]
    [InlineData("v2/alpine/manifests/.hidden", "not a tag")]
    [InlineData("v2/alpine/manifests/latest\n", "not a tag")]
    [InlineData("v2/alpine/manifests/sha256:abc", "not a digest")]
    [InlineData("v2/alpine/blobs/latest", "not a digest")]
    [InlineData("v2/alpine/blobs/sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", "not a digest")]
    [InlineData("v2/alpine/blobs/sha512:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "not a digest")]
    public void Invalid_paths_are_refused_with_a_reason(string path, string because)
    {
        Assert.False(OciPath.TryParse(path, out _, out var error));
        Assert.Contains(because, error, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error);
    }

    [Fact]
    public void Names_and_tags_are_bounded()
    {
        var longName = string.Join('/', Enumerable.Repeat("abcdefghij", 21)) + "/abcdefghijklmnopqrstuvwx";
        Assert.Equal(OciPath.MaxNameLength, longName.Length);
        Assert.True(OciPath.IsName(longName));
        Assert.False(OciPath.IsName(longName + "p"));
        Assert.True(OciPath.IsTag(new string('t', 128)));
        Assert.False(OciPath.IsTag(new string('t', 129)));
        Assert.False(OciPath.TryParse("v2/" + longName + "p/manifests/v1", out _, out var error));
        Assert.Contains("not shown", error, StringComparison.Ordinal);
    }
}
