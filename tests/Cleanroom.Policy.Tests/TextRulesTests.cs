using Cleanroom.Policy.Text;

namespace Cleanroom.Policy.Tests;

/// <summary>The small parsers underneath the schema: sizes, image references, host patterns, globs.</summary>
public sealed class TextRulesTests
{
    [Theory]
    [InlineData("8GiB", 8L << 30)]
    [InlineData("8 GiB", 8L << 30)]
    [InlineData("512MiB", 512L << 20)]
    [InlineData("16GB", 16_000_000_000L)]
    [InlineData("1kB", 1000L)]
    [InlineData("1KB", 1000L)]
    [InlineData("3KiB", 3072L)]
    [InlineData("2TiB", 2L << 40)]
    [InlineData("100B", 100L)]
    public void Sizes_parse(string text, long bytes)
    {
        Assert.True(ByteSize.TryParse(text, out var parsed));
        Assert.Equal(bytes, parsed);
        Assert.True(ByteSize.TryParse(ByteSize.Format(parsed), out var again));
        Assert.Equal(bytes, again);
    }

    [Theory]
    [InlineData("8")]
    [InlineData("8G")]
    [InlineData("8gib")]
    [InlineData("8 gigs")]
    [InlineData("1.5GiB")]
    [InlineData("-1GiB")]
    [InlineData("99999999999999999TiB")]
    [InlineData("9999999999TiB")]
    [InlineData("")]
    public void Sizes_without_a_clear_unit_do_not_parse(string text)
    {
        Assert.False(ByteSize.TryParse(text, out _));
    }

    [Theory]
    [InlineData(8L << 30, "8GiB")]
    [InlineData(1536L << 20, "1536MiB")]
    [InlineData(1000L, "1000B")]
    [InlineData(20_000_000_000L, "19531250KiB")]
    public void Sizes_format_canonically(long bytes, string text)
    {
        Assert.Equal(text, ByteSize.Format(bytes));
    }

    [Theory]
    [InlineData("alpine", "alpine", null, null)]
    [InlineData("alpine:3.20", "alpine", "3.20", null)]
    [InlineData("GHCR.io/org/img@sha256:AAAAAAAA0123456789abcdef0123456789abcdef0123456789abcdefBBBBBBBB", "ghcr.io/org/img", null, TestPolicies.Digest)]
    [InlineData("localhost:5000/a/b:tag@" + TestPolicies.Digest, "localhost:5000/a/b", "tag", TestPolicies.Digest)]
    [InlineData("registry.example.com/some_name/with-dash__x:v1", "registry.example.com/some_name/with-dash__x", "v1", null)]
    public void Image_references_parse(string text, string repository, string? tag, string? digest)
    {
        var image = ImageReference.Parse(text, out var problem);

        Assert.True(image is not null, problem);
        Assert.Equal(repository, image.Repository);
        Assert.Equal(tag, image.Tag);
        Assert.Equal(digest, image.Digest);
        Assert.Equal(digest is not null, image.IsPinned);
    }

    [Theory]
    [InlineData("")]
    [InlineData("docker://alpine")]
    [InlineData("alpine@sha512:abcd")]
    [InlineData("alpine@sha256:xyz")]
    [InlineData("Alpine")]
    [InlineData("a/b:-bad")]
    [InlineData("a b")]
    [InlineData("a//b")]
    public void Malformed_image_references_do_not_parse(string text)
    {
        Assert.Null(ImageReference.Parse(text, out var problem));
        Assert.NotEmpty(problem);
    }

    [Theory]
    [InlineData("Example.COM.", HostPatternKind.Name, "example.com")]
    [InlineData("*.Example.com", HostPatternKind.Wildcard, "*.example.com")]
    [InlineData("10.0.0.1", HostPatternKind.Address, "10.0.0.1")]
    [InlineData("10.0.0.1/32", HostPatternKind.Address, "10.0.0.1")]
    [InlineData("10.0.0.0/8", HostPatternKind.Network, "10.0.0.0/8")]
    [InlineData("0.0.0.0/0", HostPatternKind.Network, "0.0.0.0/0")]
    [InlineData("::ffff:10.0.0.1", HostPatternKind.Address, "10.0.0.1")]
    [InlineData("[2001:DB8::1]", HostPatternKind.Address, "2001:db8::1")]
    [InlineData("2001:db8:0:0::/64", HostPatternKind.Network, "2001:db8::/64")]
    [InlineData("2001:db8::1/128", HostPatternKind.Address, "2001:db8::1")]
    [InlineData("bücher.example", HostPatternKind.Name, "xn--bcher-kva.example")]
    [InlineData("_service.example.com", HostPatternKind.Name, "_service.example.com")]
    [InlineData("localhost", HostPatternKind.Name, "localhost")]
    public void Host_patterns_normalise(string text, HostPatternKind kind, string value)
    {
        Assert.True(HostPattern.TryParse(text, out var pattern, out var error), error);
        Assert.Equal(kind, pattern.Kind);
        Assert.Equal(value, pattern.Value);
    }

    [Theory]
    [InlineData("", PolicyErrorKind.InvalidHost)]
    [InlineData("http://example.com", PolicyErrorKind.UrlNotHost)]
    [InlineData("example.com/path", PolicyErrorKind.UrlNotHost)]
    [InlineData("user@example.com", PolicyErrorKind.UrlNotHost)]
    [InlineData("exa mple.com", PolicyErrorKind.UrlNotHost)]
    [InlineData("10.0.0.1-10.0.0.5", PolicyErrorKind.HostRange)]
    [InlineData("10.0.0.1/8", PolicyErrorKind.InvalidCidr)]
    [InlineData("10.0.0.0/40", PolicyErrorKind.InvalidCidr)]
    [InlineData("10.0.0.0/x", PolicyErrorKind.InvalidCidr)]
    [InlineData("256.0.0.1", PolicyErrorKind.InvalidHost)]
    [InlineData("1.2.3", PolicyErrorKind.InvalidHost)]
    [InlineData("01.2.3.4", PolicyErrorKind.InvalidHost)]
    [InlineData("fe80::1%eth0", PolicyErrorKind.InvalidHost)]
    [InlineData("*", PolicyErrorKind.InvalidHost)]
    [InlineData("*.com", PolicyErrorKind.InvalidHost)]
    [InlineData("a.*.com", PolicyErrorKind.InvalidHost)]
    [InlineData("*.*.example.com", PolicyErrorKind.InvalidHost)]
    [InlineData("-bad.example.com", PolicyErrorKind.InvalidHost)]
    [InlineData("a..b", PolicyErrorKind.InvalidHost)]
    [InlineData("host.123", PolicyErrorKind.InvalidHost)]
    public void Malformed_hosts_are_rejected_with_a_specific_reason(string text, PolicyErrorKind kind)
    {
        Assert.Null(HostPattern.Parse(text, out var problem));
        Assert.Equal(kind, problem!.Kind);
    }

    [Fact]
    public void Overlong_names_and_labels_are_rejected()
    {
        Assert.Null(HostPattern.Parse(new string('a', 64) + ".example.com", out _));
        Assert.Null(HostPattern.Parse(string.Join('.', Enumerable.Repeat("abcdefghij", 26)) + ".com", out _));
    }

    [Theory]
    [InlineData("*.go", "main.go", true)]
    [InlineData("*.go", "main.rs", false)]
    [InlineData("go.?od", "go.mod", true)]
    [InlineData("*", "", true)]
    [InlineData("a*b*c", "axxbyyc", true)]
    [InlineData("a*b*c", "axxbyy", false)]
    [InlineData("*test*", "my_test_file", true)]
    public void Glob_segments_match(string pattern, string name, bool matches)
    {
        Assert.Equal(matches, GlobSegment.IsMatch(pattern, name));
    }

    [Fact]
    public void Repository_files_are_matched_on_disk()
    {
        using var repo = new TemporaryDirectory();
        repo.Write("a/b/c/deep.txt", "x");
        repo.Write("top.json", "{}");
        repo.Write(".git/objects/secret.pack", "x");
        var files = new DirectoryRepositoryFiles(repo.Path);

        Assert.Equal(InputMatch.Matched, files.Match("top.json"));
        Assert.Equal(InputMatch.Matched, files.Match("**/deep.txt"));
        Assert.Equal(InputMatch.Matched, files.Match("a/**"));
        Assert.Equal(InputMatch.Matched, files.Match("a/*/c/*.txt"));
        Assert.Equal(InputMatch.Matched, files.Match("*.json"));
        Assert.Equal(InputMatch.IsDirectory, files.Match("a/b"));
        Assert.Equal(InputMatch.NotFound, files.Match("**/*.pack"));
        Assert.Equal(InputMatch.NotFound, files.Match("a/*.txt"));
        Assert.Equal(InputMatch.NotFound, files.Match("missing"));
    }
}
