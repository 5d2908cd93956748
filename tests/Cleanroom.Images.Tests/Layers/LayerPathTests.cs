using Cleanroom.Images.Layers;

namespace Cleanroom.Images.Tests.Layers;

/// <summary>Entry names become clean root-relative paths, or are refused before any file-system call.</summary>
public sealed class LayerPathTests
{
    [Theory]
    [InlineData("a/b/c", "a/b/c")]
    [InlineData("./a/b", "a/b")]
    [InlineData("././a//b/./c/", "a/b/c")]
    [InlineData("dir/", "dir")]
    [InlineData("./", "")]
    [InlineData(".", "")]
    [InlineData("", "")]
    [InlineData("a/..b/c..", "a/..b/c..")]
    [InlineData("...", "...")]
    public void Names_are_normalised(string name, string expected) =>
        Assert.Equal(expected, LayerPath.Normalize(name, "a path"));

    [Fact]
    public void A_clean_name_is_returned_without_copying() => Assert.Same(
        "usr/lib/x86_64-linux-gnu/libc.so.6",
        LayerPath.Normalize("usr/lib/x86_64-linux-gnu/libc.so.6", "a path"));

    [Theory]
    [InlineData("/etc/passwd", "absolute")]
    [InlineData("//etc", "absolute")]
    [InlineData("..", "'..'")]
    [InlineData("a/../b", "'..'")]
    [InlineData("./../x", "'..'")]
    [InlineData("a/..", "'..'")]
    [InlineData("a\0b", "NUL")]
    public void Dangerous_names_are_rejected(string name, string reason)
    {
        var error = Assert.Throws<EntryRejectedException>(() => LayerPath.Normalize(name, "a path"));

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Overlong_paths_and_components_are_rejected()
    {
        Assert.Equal(255, LayerPath.Normalize(new string('x', 255), "a path").Length);
        Assert.Throws<EntryRejectedException>(() => LayerPath.Normalize(new string('x', 256), "a path"));
        Assert.Throws<EntryRejectedException>(() => LayerPath.Normalize("a/" + new string('\u00e9', 128), "a path")); // 256 UTF-8 bytes
        Assert.Throws<EntryRejectedException>(() => LayerPath.Normalize(string.Join('/', Enumerable.Repeat(new string('d', 200), 21)), "a path"));
    }
}
