using Cleanroom.Images.Layers;

namespace Cleanroom.Images.Tests.Layers;

/// <summary>Which names are whiteouts, opaque markers or AUFS bookkeeping, and what they refer to.</summary>
public sealed class WhiteoutTests
{
    [Theory]
    [InlineData("etc/passwd", nameof(WhiteoutKind.None), "")]
    [InlineData("etc/.whatever", nameof(WhiteoutKind.None), "")]
    [InlineData("etc/x.wh.y", nameof(WhiteoutKind.None), "")]
    [InlineData("a/.wh.dir/file", nameof(WhiteoutKind.None), "")]
    [InlineData(".wh.etc", nameof(WhiteoutKind.Remove), "etc")]
    [InlineData("etc/.wh.passwd", nameof(WhiteoutKind.Remove), "etc/passwd")]
    [InlineData("etc/.wh..hidden", nameof(WhiteoutKind.Remove), "etc/.hidden")]
    [InlineData("var/lib/.wh..wh..opq", nameof(WhiteoutKind.Opaque), "var/lib")]
    [InlineData(".wh..wh..opq", nameof(WhiteoutKind.Opaque), "")]
    [InlineData(".wh..wh.plnk", nameof(WhiteoutKind.Ignored), "")]
    [InlineData(".wh..wh.plnk/123.456", nameof(WhiteoutKind.Ignored), "")]
    [InlineData("a/.wh..wh.aufs", nameof(WhiteoutKind.Ignored), "")]
    public void Names_are_classified(string path, string kind, string target)
    {
        var whiteout = Whiteout.Classify(path);

        Assert.Equal(kind, whiteout.Kind.ToString());
        Assert.Equal(target, whiteout.Target ?? "");
    }

    [Theory]
    [InlineData("a/.wh.")]
    [InlineData("a/.wh..")]
    [InlineData(".wh...")]
    public void A_whiteout_for_no_real_name_is_rejected(string path) =>
        Assert.Throws<EntryRejectedException>(() => Whiteout.Classify(path));
}
