using Cleanroom.Gateway.Cache;

namespace Cleanroom.Gateway.Tests;

public sealed class CacheKeyTests
{
    [Fact]
    public void Joins_as_protocol_kind_key()
    {
        Assert.Equal("npm|tarball|left-pad/-/left-pad-1.3.0.tgz", new CacheKey("npm", "tarball", "left-pad/-/left-pad-1.3.0.tgz").ToString());
        Assert.Equal(new CacheKey("oci", "tag", "a:b"), new CacheKey("oci", "tag", "a:b"));
    }

    [Theory]
    [InlineData("", "kind", "key")]
    [InlineData("Npm", "kind", "key")]
    [InlineData("np|m", "kind", "key")]
    [InlineData("npm", "ki nd", "key")]
    [InlineData("npm", "kind", "")]
    [InlineData("npm", "kind", "a\0b")]
    [InlineData("npm", "kind", "a\nb")]
    public void Rejects_empty_or_odd_parts(string protocol, string kind, string key) =>
        Assert.Throws<ArgumentException>(() => new CacheKey(protocol, kind, key));

    [Fact]
    public void Bounds_every_part()
    {
        _ = new CacheKey(new string('p', CacheKey.MaxNameLength), new string('k', CacheKey.MaxNameLength), new string('x', CacheKey.MaxKeyLength));
        Assert.Throws<ArgumentException>(() => new CacheKey(new string('p', CacheKey.MaxNameLength + 1), "k", "x"));
        Assert.Throws<ArgumentException>(() => new CacheKey("p", new string('k', CacheKey.MaxNameLength + 1), "x"));
        Assert.Throws<ArgumentException>(() => new CacheKey("p", "k", new string('x', CacheKey.MaxKeyLength + 1)));
    }

    [Fact]
    public void Entry_options_are_bounded()
    {
        new CacheEntryOptions { ContentType = "application/json", ETag = "\"abc\"", TimeToLive = TimeSpan.FromMinutes(5) }.Validate();
        Assert.Throws<ArgumentException>(() => new CacheEntryOptions { ContentType = new string('a', 257) }.Validate());
        Assert.Throws<ArgumentException>(() => new CacheEntryOptions { ETag = "a\r\nX-Injected: 1" }.Validate());
        Assert.Throws<ArgumentException>(() => new CacheEntryOptions { UpstreamStatus = 999 }.Validate());
        Assert.Throws<ArgumentException>(() => new CacheEntryOptions { TimeToLive = TimeSpan.Zero }.Validate());
        Assert.Throws<ArgumentException>(() => new CacheEntryOptions { TimeToLive = TimeSpan.FromDays(30) }.Validate());
    }
}
