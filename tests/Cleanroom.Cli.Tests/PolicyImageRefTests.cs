using System.Text;
using Cleanroom.Cli.Images;

namespace Cleanroom.Cli.Tests;

/// <summary>Finding and replacing <c>sandbox.image.ref</c> in policy text without touching anything else.</summary>
public sealed class PolicyImageRefTests
{
    private const string Pinned = "alpine:3.20@sha256:2222222222222222222222222222222222222222222222222222222222222222";

    private static string Replace(string yaml, string reference = Pinned)
    {
        var found = PolicyImageRef.Find(Encoding.UTF8.GetBytes(yaml), out var problem);
        Assert.True(found is not null, problem);
        return Encoding.UTF8.GetString(found.WithValue(reference));
    }

    private static string Problem(string yaml)
    {
        Assert.Null(PolicyImageRef.Find(Encoding.UTF8.GetBytes(yaml), out var problem));
        return problem;
    }

    [Theory]
    [InlineData("sandbox:\n  image:\n    ref: alpine:3.19\n", "sandbox:\n  image:\n    ref: {0}\n")]
    [InlineData("sandbox:\n  image:\n    ref: \"alpine:3.19\"  # c\n", "sandbox:\n  image:\n    ref: \"{0}\"  # c\n")]
    [InlineData("sandbox:\n  image:\n    ref: 'alpine:3.19'\n", "sandbox:\n  image:\n    ref: '{0}'\n")]
    [InlineData("sandbox: {image: {ref: alpine}}\n", "sandbox: {image: {ref: {0}}}\n")]
    [InlineData("sandbox:\n  image:\n    ref:\n", "sandbox:\n  image:\n    ref: {0}\n")]
    [InlineData("sandbox:\n  image: {ref: , x: 1}\n", "sandbox:\n  image: {ref: {0}, x: 1}\n")]
    [InlineData("sandbox:\n  other:\n    ref: x\n  image:\n    ref: é\n", "sandbox:\n  other:\n    ref: x\n  image:\n    ref: {0}\n")]
    [InlineData("ref: top\nlist:\n  - sandbox:\n      image:\n        ref: nested\nsandbox:\n  image:\n    \"ref\": old\n", "ref: top\nlist:\n  - sandbox:\n      image:\n        ref: nested\nsandbox:\n  image:\n    \"ref\": {0}\n")]
    public void Replaces_only_the_value_in_its_own_quoting(string yaml, string expected) =>
        Assert.Equal(expected.Replace("{0}", Pinned, StringComparison.Ordinal), Replace(yaml));

    [Theory]
    [InlineData("sandbox:\n  image:\n    ref: alpine:3.19\n", "alpine:3.19", false)]
    [InlineData("sandbox:\n  image:\n    ref: ~\n", "~", true)]
    [InlineData("sandbox:\n  image:\n    ref: \"\"\n", "", true)]
    [InlineData("sandbox:\n  image:\n    ref: \"null\"\n", "null", false)]
    public void Reads_the_current_value(string yaml, string value, bool isNull)
    {
        var found = PolicyImageRef.Find(Encoding.UTF8.GetBytes(yaml), out _)!;
        Assert.Equal((value, isNull), (found.Value, found.IsNull));
    }

    [Theory]
    [InlineData("version: 1\n", "there is no sandbox.image.ref")]
    [InlineData("sandbox:\n  image: alpine\n", "there is no sandbox.image.ref")]
    [InlineData("sandbox:\n  image:\n    ref: &a alpine\n", "anchor or tag")]
    [InlineData("sandbox:\n  image:\n    ref: !!str alpine\n", "anchor or tag")]
    [InlineData("sandbox:\n  image:\n    ref: |\n      alpine\n", "block scalar")]
    [InlineData("x: &a alpine\nsandbox:\n  image:\n    ref: *a\n", "alias")]
    [InlineData("sandbox:\n  image:\n    ref: [alpine]\n", "not an image reference")]
    [InlineData("sandbox:\n  image: {ref}\n", "no value to replace")]
    [InlineData("sandbox: [\n", "not valid YAML")]
    public void Explains_what_it_cannot_edit(string yaml, string problem) =>
        Assert.Contains(problem, Problem(yaml), StringComparison.Ordinal);

    [Fact]
    public void Bytes_outside_the_value_are_copied_exactly()
    {
        var file = "\uFEFF# é comment\r\nsandbox:\r\n  image:\r\n    ref: old   \t# trailing\r\n\r\n"u8.ToArray();
        var found = PolicyImageRef.Find(file, out _)!;
        Assert.Equal("old", found.Value);
        var expected = "\uFEFF# é comment\r\nsandbox:\r\n  image:\r\n    ref: new:1   \t# trailing\r\n\r\n"u8.ToArray();
        Assert.Equal(expected, found.WithValue("new:1"));
    }

    [Fact]
    public void Refuses_a_file_that_is_not_utf8()
    {
        Assert.Null(PolicyImageRef.Find([0x73, 0xff, 0x0a], out var problem));
        Assert.Equal("the file is not UTF-8 text", problem);
    }
}
