using System.Text;
using Cleanroom.Gateway.Routes.Npm;

namespace Cleanroom.Gateway.Tests.Npm;

/// <summary>The streaming packument rewrite: only versions.*.dist.tarball changes, everything else stays as written.</summary>
public sealed class NpmPackumentRewriterTests
{
    private static string Rewrite(string json) =>
        Encoding.UTF8.GetString(NpmPackumentRewriter.Rewrite(Encoding.UTF8.GetBytes(json), link => "R(" + link + ")"));

    [Fact]
    public void Only_the_tarball_of_each_version_is_rewritten()
    {
        var json = """{"tarball":"t0","versions":{"1.0.0":{"tarball":"t1","dist":{"tarball":"t2","x":{"tarball":"t3"}}},"2.0.0":{"dist":{"tarball":"t4"}}},"other":{"v":{"dist":{"tarball":"t5"}}}}""";

        Assert.Equal(
            """{"tarball":"t0","versions":{"1.0.0":{"tarball":"t1","dist":{"tarball":"R(t2)","x":{"tarball":"t3"}}},"2.0.0":{"dist":{"tarball":"R(t4)"}}},"other":{"v":{"dist":{"tarball":"t5"}}}}""",
            Rewrite(json));
    }

    [Fact]
    public void Arrays_where_objects_belong_are_copied_and_not_rewritten()
    {
        var json = """{"versions":[{"dist":{"tarball":"t1"}}],"x":{"versions":{"1":{"dist":["tarball","t2"]}}}}""";

        Assert.Equal(json, Rewrite(json));
        Assert.Equal("""{"versions":{"1":{"dist":[{"tarball":"t"}]}}}""", Rewrite("""{"versions":{"1":{"dist":[{"tarball":"t"}]}}}"""));
    }

    [Fact]
    public void Strings_and_numbers_are_copied_byte_for_byte()
    {
        var json = """{"a":"\u00e9\"\\\/\ud83d\ude00 é","n":[1.0e10,12345678901234567890123,-0,0.1],"b":[true,false,null],"e":{},"l":[]}""";

        Assert.Equal(json, Rewrite(json));
    }

    [Fact]
    public void A_link_the_rewrite_declines_is_kept()
    {
        var json = """{"versions":{"1":{"dist":{"tarball":"keep\u0041"}}}}""";

        Assert.Equal(json, Encoding.UTF8.GetString(NpmPackumentRewriter.Rewrite(Encoding.UTF8.GetBytes(json), _ => null)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("\"text\"")]
    [InlineData("null")]
    [InlineData("{} []")]
    [InlineData("{\"a\":1")]
    [InlineData("{\"a\":01}")]
    [InlineData("{'a':1}")]
    [InlineData("{\"a\":\"\u0001\"}")]
    [InlineData("{/*c*/\"a\":1}")]
    public void Anything_but_one_json_object_is_refused(string json)
    {
        Assert.Throws<InvalidDataException>(() => Rewrite(json));
    }

    [Fact]
    public void Invalid_utf8_and_excessive_depth_are_refused()
    {
        Assert.Throws<InvalidDataException>(() => NpmPackumentRewriter.Rewrite([.. "{\"a\":\""u8, 0xff, 0xfe, .. "\"}"u8], l => l));
        var deep = "{\"a\":" + new string('[', NpmPackumentRewriter.MaxDepth) + new string(']', NpmPackumentRewriter.MaxDepth) + "}";
        Assert.Throws<InvalidDataException>(() => Rewrite(deep));
        var fits = "{\"a\":" + new string('[', NpmPackumentRewriter.MaxDepth - 1) + new string(']', NpmPackumentRewriter.MaxDepth - 1) + "}";
        Assert.Equal(fits, Rewrite(fits));
    }
}
