using System.Text;
using System.Text.Json;
using Cleanroom.Gateway.Routes.PyPi;
using Cleanroom.Gateway.Upstream;

namespace Cleanroom.Gateway.Tests.PyPi;

/// <summary>The link rewriting of simple index pages, fed what a hostile upstream might write.</summary>
public sealed class SimpleRewriterTests
{
    private static readonly Uri Page = new("https://pypi.org/simple/demo/");

    [Theory]
    [InlineData("https://files.pythonhosted.org/packages/a/b/demo-1.0.tar.gz#sha256=00ff", "/pypi/files.pythonhosted.org/packages/a/b/demo-1.0.tar.gz#sha256=00ff")]
    [InlineData("demo-1.0.tar.gz#sha256=00ff", "demo-1.0.tar.gz#sha256=00ff")]
    [InlineData("../../packages/demo-1.0.whl", "../../packages/demo-1.0.whl")]
    [InlineData("../../../../../escape.tar.gz", "/pypi/pypi.org/escape.tar.gz")]
    [InlineData("/packages/demo-1.0.whl", "/pypi/pypi.org/packages/demo-1.0.whl")]
    [InlineData("//mirror.example.test/demo-1.0.whl", "/pypi/mirror.example.test/demo-1.0.whl")]
    [InlineData("http://Mirror.Example.Test/p/demo-1.0.whl?x=1", "/pypi/mirror.example.test/p/demo-1.0.whl?x=1")]
    [InlineData("  demo-1.0.zip\n", "demo-1.0.zip")]
    [InlineData("demo 1.0.zip", "/pypi/pypi.org/simple/demo/demo%201.0.zip")]
    [InlineData("a\\..\\..\\..\\x.whl", "/pypi/pypi.org/x.whl")]
    public void Links_resolve_to_the_gateway_and_plain_relative_ones_stay_relative(string href, string expected) =>
        Assert.Equal(expected, new SimpleLinks(Page).Map(href));

    [Fact]
    public void Rewritten_links_with_a_sha256_are_pinned_and_relative_ones_are_kept()
    {
        var hex = new string('a', 63) + "B";
        var links = new SimpleLinks(Page);
        Assert.Equal(
            $"/pypi/sha256:{hex.ToLowerInvariant()}/files.pythonhosted.org/p/demo-1.0.whl#sha256={hex}",
            links.Map($"https://files.pythonhosted.org/p/demo-1.0.whl#sha256={hex}"));
        Assert.Equal($"/pypi/sha256:{new string('c', 64)}/files.pythonhosted.org/p/demo-1.0.whl", links.Map("https://files.pythonhosted.org/p/demo-1.0.whl", new string('c', 64)));
        Assert.Equal("/pypi/files.pythonhosted.org/p/demo-1.0.whl", links.Map("https://files.pythonhosted.org/p/demo-1.0.whl", "not-a-digest"));
        Assert.Equal($"demo-1.0.whl#sha256={hex}", links.Map($"demo-1.0.whl#sha256={hex}"));
    }

    [Theory]
    [InlineData("javascript:alert(1)")]
    [InlineData("file:///etc/passwd")]
    [InlineData("data:text/html,hi")]
    [InlineData("https://1.2.3.4/x.whl")]
    [InlineData("https://[::1]/x.whl")]
    [InlineData("https://files.example.test:8443/x.whl")]
    [InlineData("https://user:pw@files.example.test/x.whl")]
    [InlineData("ftp://files.example.test/x.whl")]
    public void Links_the_gateway_cannot_serve_are_dropped(string href) => Assert.Null(new SimpleLinks(Page).Map(href));

    [Fact]
    public void A_hostile_html_page_cannot_break_out_of_attributes_and_base_tags_are_removed()
    {
        const string html = """
            <html><head><BASE HREF="https://mirror.example.test/base/"></head><body>
            <!-- <a href="https://in.comment.test/x.whl"> -->
            <A HREF=https://other.example.test/p/x-1.0.tar.gz#sha256=ab data-yanked="">x</A>
            <a href='https://evil.example.test/x.whl"&gt;&lt;script&gt;' href="second.whl">y</a>
            <a/href="javascript:alert(1)">z</a>
            <abbr href="https://untouched.example.test/">w</abbr>
            <a href="rel-1.0.whl">relative after base</a>
            <a href="https://unterminated.example.test/x.whl
            """;
        var output = SimpleHtmlRewriter.Rewrite(html, new SimpleLinks(Page));
        Assert.DoesNotContain("<BASE", output, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("<!-- <a href=\"https://in.comment.test/x.whl\"> -->", output, StringComparison.Ordinal);
        Assert.Contains("<A href=\"/pypi/other.example.test/p/x-1.0.tar.gz#sha256=ab\" data-yanked=\"\">x</A>", output, StringComparison.Ordinal);
        Assert.Contains(
            "<a href=\"/pypi/evil.example.test/x.whl%22%3E%3Cscript%3E\" href=\"/pypi/mirror.example.test/base/second.whl\">y</a>",
            output, StringComparison.Ordinal);
        Assert.Contains("<a/href=\"\">z</a>", output, StringComparison.Ordinal);
        Assert.Contains("<abbr href=\"https://untouched.example.test/\">", output, StringComparison.Ordinal);
        Assert.Contains("<a href=\"/pypi/mirror.example.test/base/rel-1.0.whl\">", output, StringComparison.Ordinal);
        Assert.Contains("<a href=\"/pypi/unterminated.example.test/x.whl\"", output, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Attribute_values_are_escaped_when_written()
    {
        var output = SimpleHtmlRewriter.Rewrite("<a href=\"x.whl?a=1&amp;b='2'\">x</a>", new SimpleLinks(Page));
        Assert.Equal("<a href=\"x.whl?a=1&amp;b=&#39;2&#39;\">x</a>", output);
    }

    [Fact]
    public void Json_pages_have_their_file_urls_rewritten_and_unusable_files_dropped()
    {
        var json = Encoding.UTF8.GetBytes("""
            {"meta": {"api-version": "1.1"}, "name": "demo", "versions": ["1.0"], "files": [
              {"filename": "demo-1.0.whl", "url": "https://files.pythonhosted.org/packages/demo-1.0.whl", "hashes": {"sha256": "ab"}},
              {"filename": "evil.whl", "url": "javascript:alert(1)", "hashes": {}},
              {"filename": "nourl.whl", "hashes": {}},
              {"filename": "demo-1.0.tar.gz", "url": "demo-1.0.tar.gz", "hashes": {}, "yanked": "bad"}
            ]}
            """);
        using var document = JsonDocument.Parse(SimpleJsonRewriter.Rewrite(json, new SimpleLinks(Page)));
        var files = document.RootElement.GetProperty("files").EnumerateArray().ToList();
        Assert.Equal(["demo-1.0.whl", "demo-1.0.tar.gz"], files.Select(f => f.GetProperty("filename").GetString()));
        Assert.Equal("/pypi/files.pythonhosted.org/packages/demo-1.0.whl", files[0].GetProperty("url").GetString());
        Assert.Equal("demo-1.0.tar.gz", files[1].GetProperty("url").GetString());
        Assert.Equal("bad", files[1].GetProperty("yanked").GetString());
        Assert.Equal("1.1", document.RootElement.GetProperty("meta").GetProperty("api-version").GetString());
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("{\"files\": {}}")]
    [InlineData("{\"files\": [1]}")]
    [InlineData("{\"files\": [")]
    public void Json_that_is_not_a_pep_691_page_is_an_upstream_error(string json) =>
        Assert.Throws<UpstreamFailedException>(() => SimpleJsonRewriter.Rewrite(Encoding.UTF8.GetBytes(json), new SimpleLinks(Page)));

    [Fact]
    public void Deeply_nested_json_is_refused()
    {
        var json = "{\"x\": " + new string('[', 200) + new string(']', 200) + "}";
        Assert.Throws<UpstreamFailedException>(() => SimpleJsonRewriter.Rewrite(Encoding.UTF8.GetBytes(json), new SimpleLinks(Page)));
    }

    [Theory]
    [InlineData("Django", "django")]
    [InlineData("zope.interface", "zope-interface")]
    [InlineData("A__b-.-C", "a-b-c")]
    [InlineData("x", "x")]
    public void Project_names_are_normalised_per_pep_503(string name, string expected)
    {
        Assert.True(PyPiNames.TryNormalizeProject(name, out var normalized));
        Assert.Equal(expected, normalized);
    }

    [Theory]
    [InlineData("")]
    [InlineData("-x")]
    [InlineData("x.")]
    [InlineData("a b")]
    [InlineData("ä")]
    public void Invalid_project_names_are_refused(string name) => Assert.False(PyPiNames.TryNormalizeProject(name, out _));
}
