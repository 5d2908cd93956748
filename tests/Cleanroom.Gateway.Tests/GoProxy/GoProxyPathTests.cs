using Cleanroom.Gateway.Routes.GoProxy;

namespace Cleanroom.Gateway.Tests.GoProxy;

/// <summary>The /goproxy/ path grammar on its own: what is accepted, what it maps to, how it is cached.</summary>
public sealed class GoProxyPathTests
{
    [Theory]
    [InlineData("example.test/hello/@v/list", nameof(GoProxyFile.List), true)]
    [InlineData("example.test/hello/@latest", nameof(GoProxyFile.Latest), true)]
    [InlineData("github.com/!burnt!sushi/toml/@v/v1.3.2.info", nameof(GoProxyFile.Info), false)]
    [InlineData("golang.org/x/mod/@v/v0.0.0-20240101000000-0123456789ab.mod", nameof(GoProxyFile.Mod), false)]
    [InlineData("example.test/a_b~c/v2/@v/v2.0.0+incompatible.zip", nameof(GoProxyFile.Zip), false)]
    [InlineData("example.test/hello/@v/v1.0.0-rc.1.0.!x-y.zip", nameof(GoProxyFile.Zip), false)]
    [InlineData("sumdb/sum.golang.org/supported", nameof(GoProxyFile.SumDbSupported), false)]
    [InlineData("sumdb/sum.golang.org/latest", nameof(GoProxyFile.SumDbLatest), true)]
    [InlineData("sumdb/sum.golang.org/lookup/github.com/!burnt!sushi/toml@v1.3.2", nameof(GoProxyFile.SumDbLookup), true)]
    [InlineData("sumdb/sum.golang.org/tile/8/0/x001/x234/067", nameof(GoProxyFile.SumDbTile), false)]
    [InlineData("sumdb/sum.golang.org/tile/8/2/000.p/255", nameof(GoProxyFile.SumDbTile), false)]
    [InlineData("sumdb/sum.golang.org/tile/8/data/x005/123.p/1", nameof(GoProxyFile.SumDbTile), false)]
    public void Protocol_paths_are_accepted_and_forwarded_unchanged(string path, string file, bool mutable)
    {
        Assert.True(GoProxyPath.TryParse(path.Split('/'), out var target, out var problem), problem);
        Assert.Equal(Enum.Parse<GoProxyFile>(file), target!.File);
        Assert.Equal(mutable, target.IsMutable);
        var expected = path.StartsWith("sumdb/", StringComparison.Ordinal) ? path[path.IndexOf('/', 6)..] : "/" + path;
        Assert.Equal(expected, target.UpstreamPath);
    }

    [Theory]
    [InlineData("v1.2.3", true)]
    [InlineData("v0.0.0-20240101000000-0123456789ab", true)]
    [InlineData("v1.0.0-0.!a", true)]
    [InlineData("v2.0.0+incompatible", true)]
    [InlineData("v1.0.0-rc.1+incompatible", true)]
    [InlineData("v1.2", false)]
    [InlineData("v1.2.3.4", false)]
    [InlineData("1.2.3", false)]
    [InlineData("v1.2.3-", false)]
    [InlineData("v1.2.3-a..b", false)]
    [InlineData("v1.2.3-007", false)]
    [InlineData("v1.2.3+meta", false)]
    [InlineData("v1.2.3-A", false)]
    [InlineData("v1.2.3-a_b", false)]
    [InlineData("v1.02.3", false)]
    [InlineData("latest", false)]
    public void Only_canonical_semantic_versions_name_a_version(string version, bool valid) =>
        Assert.Equal(valid, GoModuleNames.IsCanonicalVersion(version, out _));

    [Fact]
    public void Overlong_paths_and_versions_are_refused()
    {
        Assert.False(GoModuleNames.IsValidPath("example.test/" + new string('a', GoModuleNames.MaxPathLength), out _));
        Assert.False(GoModuleNames.IsCanonicalVersion("v1.0.0-" + new string('a', GoModuleNames.MaxVersionLength), out _));
    }
}
