using Cleanroom.Gateway.Routes;
using Cleanroom.Gateway.Server;

namespace Cleanroom.Gateway.Tests.Server;

public sealed class RequestTargetTests
{
    [Fact]
    public void A_clean_target_splits_into_raw_and_decoded_segments()
    {
        Assert.True(RequestTarget.TryParse("/fetch/host.test/a%20b/c%2Fd/?x=1&y=%41", out var target, out var problem), problem);
        Assert.Equal(["fetch", "host.test", "a%20b", "c%2Fd", ""], target!.RawSegments);
        Assert.Equal(["fetch", "host.test", "a b", "c/d", ""], target.Segments);
        Assert.Equal("x=1&y=%41", target.Query);
        Assert.Equal("/a%20b/c%2Fd/", target.RawPathFrom(2));
    }

    [Theory]
    [InlineData("relative/path")]
    [InlineData("")]
    [InlineData("/a/../b")]
    [InlineData("/a/%2E%2E")]
    [InlineData("/a/%2e")]
    [InlineData("/a//b")]
    [InlineData("/a%00")]
    [InlineData("/a?b=%00")]
    [InlineData("/a%1")]
    [InlineData("/a%g0")]
    [InlineData("/a\\b")]
    [InlineData("/a%5Cb")]
    [InlineData("/a b")]
    [InlineData("/a\u00e9")]
    [InlineData("/a#frag")]
    [InlineData("/a%c3")]
    [InlineData("/a?x=\u0007")]
    public void Hostile_targets_are_refused(string raw)
    {
        Assert.False(RequestTarget.TryParse(raw, out var target, out var problem));
        Assert.Null(target);
        Assert.NotEmpty(problem);
    }

    [Fact]
    public void The_length_bound_is_exact()
    {
        var longest = "/" + new string('a', RequestTarget.MaxLength - 1);
        Assert.True(RequestTarget.TryParse(longest, out _, out _));
        Assert.False(RequestTarget.TryParse(longest + "a", out _, out _));
    }

    [Theory]
    [InlineData("0014command=ls-refs\n0000", "version=2", "Refs")]
    [InlineData("0012command=fetch\n0000", "version=2", "Pack")]
    [InlineData("0012command=fetch\n0000", "", "Other")]
    [InlineData("0016object-info=x\n0000", "version=2", "Other")]
    [InlineData("0032want 0123456789012345678901234567890123456789\n0000", "", "Pack")]
    [InlineData("0032want 0123456789012345678901234567890123456789\n0000", "version=1", "Pack")]
    [InlineData("zzzz", "", "Other")]
    [InlineData("ffffwant", "", "Other")]
    [InlineData("", "version=2", "Other")]
    public void Upload_pack_bodies_are_classified_by_their_first_line(string body, string protocol, string kind) =>
        Assert.Equal(kind, GitPktLine.Classify(System.Text.Encoding.ASCII.GetBytes(body), protocol).ToString());
}
