using Cleanroom.Network.Dns;
using Cleanroom.Network.Dns.Wire;

namespace Cleanroom.Network.Tests.Dns;

/// <summary>Which upstream records reach the guest: the chain from the name asked and its data, nothing else.</summary>
public sealed class AnswerChainTests
{
    private static DnsName N(string text)
    {
        Assert.True(DnsName.TryParse(text, out var name));
        return name;
    }

    private static DnsRecord Cname(string owner, string target, uint ttl = 300) => new(N(owner), DnsRecordType.Cname, ttl, [], N(target));

    private static DnsRecord A(string owner, byte last, uint ttl = 300) => new(N(owner), DnsRecordType.A, ttl, [10, 0, 0, last], null);

    private static readonly DnsQuestion Question = new(N("www.allowed.test"), DnsRecordType.A, 1);

    [Fact]
    public void The_chain_is_followed_in_any_order_and_foreign_records_are_left_out()
    {
        var answers = new[]
        {
            A("edge.cdn.test", 1),
            A("www.allowed.test", 66),
            Cname("mid.cdn.test", "edge.cdn.test"),
            A("evil.example", 99),
            Cname("WWW.allowed.test", "mid.cdn.test"),
            A("edge.cdn.test", 2),
        };

        var selected = AnswerChain.Select(Question, answers, maxCnames: 8, maxRecords: 32);

        Assert.Equal(
            ["www.allowed.test CNAME", "mid.cdn.test CNAME", "edge.cdn.test 1", "edge.cdn.test 2"],
            selected!.Select(r => r.Owner.ToString().ToLowerInvariant() + (r.Type == DnsRecordType.Cname ? " CNAME" : " " + r.Fixed[3])));
    }

    [Fact]
    public void Loops_and_overlong_chains_fail()
    {
        var loop = new[] { Cname("www.allowed.test", "a.test"), Cname("a.test", "www.allowed.test") };
        var chain = Enumerable.Range(0, 4).Select(i => Cname(i == 0 ? "www.allowed.test" : $"c{i}.test", $"c{i + 1}.test")).ToList();

        Assert.Null(AnswerChain.Select(Question, loop, 8, 32));
        Assert.Null(AnswerChain.Select(Question, chain, maxCnames: 3, maxRecords: 32));
        Assert.NotNull(AnswerChain.Select(Question, chain, maxCnames: 4, maxRecords: 32));
    }

    [Fact]
    public void Data_records_are_bounded()
    {
        var answers = Enumerable.Range(0, 50).Select(i => A("www.allowed.test", (byte)i)).ToList();

        Assert.Equal(32, AnswerChain.Select(Question, answers, 8, 32)!.Count);
    }

    [Fact]
    public void One_ttl_for_the_whole_answer_the_smallest_and_capped()
    {
        var cap = TimeSpan.FromSeconds(300);

        Assert.Equal(300u, AnswerChain.AnswerTtl([Cname("www.allowed.test", "a.test", 86400), A("a.test", 1, 3600)], cap));
        Assert.Equal(20u, AnswerChain.AnswerTtl([Cname("www.allowed.test", "a.test", 20), A("a.test", 1, 3600)], cap));
        Assert.Equal(0u, AnswerChain.AnswerTtl([A("a.test", 1, 0x8000_0001)], cap));
    }
}
