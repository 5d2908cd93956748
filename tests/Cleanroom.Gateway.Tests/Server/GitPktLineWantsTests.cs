using System.Text;
using Cleanroom.Gateway.Routes;

namespace Cleanroom.Gateway.Tests.Server;

/// <summary>Reading the wanted object ids out of an upload-pack request, before a mirror is asked for them.</summary>
public sealed class GitPktLineWantsTests
{
    private const string A = "1111111111111111111111111111111111111111";
    private const string B = "2222222222222222222222222222222222222222";

    private static byte[] Pkt(params string[] lines)
    {
        var text = new StringBuilder();
        foreach (var line in lines)
        {
            text.Append(line is "0000" or "0001" ? line : (line.Length + 4).ToString("x4", System.Globalization.CultureInfo.InvariantCulture) + line);
        }

        return Encoding.ASCII.GetBytes(text.ToString());
    }

    [Fact]
    public void A_v0_negotiation_yields_its_wants_without_capabilities()
    {
        var body = Pkt($"want {A} multi_ack_detailed side-band-64k ofs-delta\n", $"want {B}\n", "0000", $"have {B}\n", "0000", "done\n");
        Assert.Equal([A, B], GitPktLine.Wants(body, 10));
    }

    [Fact]
    public void A_v2_fetch_yields_its_wants_after_the_delimiter_and_ignores_want_refs()
    {
        var body = Pkt("command=fetch\n", "agent=git/2.47\n", "object-format=sha1\n", "0001", "thin-pack\n", $"want {A}\n", "want-ref refs/heads/main\n", "done\n", "0000");
        Assert.Equal([A], GitPktLine.Wants(body, 10));
    }

    [Fact]
    public void A_sha256_id_is_a_want_too()
    {
        var id = new string('a', 64);
        Assert.Equal([id], GitPktLine.Wants(Pkt($"want {id}\n", "0000"), 10));
    }

    [Theory]
    [InlineData("0032want 1111111111111111111111111111111111111111\n00")]
    [InlineData("zzzzwant")]
    [InlineData("0100want 1111111111111111111111111111111111111111\n")]
    [InlineData("000ewant ../../x\n")]
    [InlineData("0032want 111111111111111111111111111111111111111G\n")]
    [InlineData("0032want AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n")]
    public void A_malformed_body_or_want_is_no_list(string body) =>
        Assert.Null(GitPktLine.Wants(Encoding.ASCII.GetBytes(body), 10));

    [Fact]
    public void More_wants_than_allowed_are_no_list()
    {
        var body = Pkt($"want {A}\n", $"want {B}\n", "0000");
        Assert.Null(GitPktLine.Wants(body, 1));
        Assert.Equal(2, GitPktLine.Wants(body, 2)!.Count);
    }
}
