using System.Net;
using Cleanroom.Network.Dns.Wire;
using static Cleanroom.Network.Tests.Dns.Wire.WireBytes;

namespace Cleanroom.Network.Tests.Dns.Wire;

/// <summary>Upstream answers are checked against the query the filter sent, and their records against their types.</summary>
public sealed class DnsResponseParserTests
{
    private const ushort Id = 0x4242;
    private static readonly DnsQuestion Asked = new(ParseName("www.allowed.test"), 1, 1);

    private static DnsName ParseName(string text)
    {
        Assert.True(DnsName.TryParse(text, out var name));
        return name;
    }

    private static DnsResponseParser.Outcome Parse(byte[] message, out DnsUpstreamResponse? response) =>
        DnsResponseParser.Parse(message, Id, Asked, out response);

    private static byte[] Response(ushort an, params byte[][] records) =>
        Concat([Header(id: Id, flags: 0x8180, an: an), Question("www.allowed.test"), .. records]);

    [Fact]
    public void A_compressed_cname_chain_is_decompressed()
    {
        // www.allowed.test CNAME edge.cdn.test (edge + pointer into nothing before; written in full), then its A.
        var cnameTarget = Concat([4], "edge"u8.ToArray(), [3], "cdn"u8.ToArray(), [4], "test"u8.ToArray(), [0]);
        var targetAt = 12 + Question("www.allowed.test").Length + 2 + 10;
        var message = Response(2,
            Record(Pointer(12), 5, 300, cnameTarget),
            Record(Pointer(targetAt), 1, 60, [10, 7, 7, 7]));

        Assert.Equal(DnsResponseParser.Outcome.Response, Parse(message, out var response));
        Assert.Equal(DnsResponseCode.NoError, response!.ResponseCode);
        Assert.Collection(response.Answers,
            cname =>
            {
                Assert.Equal("www.allowed.test", cname.Owner.ToString());
                Assert.Equal("edge.cdn.test", cname.Target!.ToString());
            },
            a =>
            {
                Assert.Equal("edge.cdn.test", a.Owner.ToString());
                Assert.Equal(IPAddress.Parse("10.7.7.7"), new IPAddress(a.Fixed));
                Assert.Equal(60u, a.Ttl);
            });
    }

    [Fact]
    public void Answers_to_something_else_are_mismatches()
    {
        var otherId = Concat(Header(id: Id + 1, flags: 0x8180), Question("www.allowed.test"));
        var otherName = Concat(Header(id: Id, flags: 0x8180), Question("www.other.test"));
        var otherType = Concat(Header(id: Id, flags: 0x8180), Question("www.allowed.test", type: 28));
        var notResponse = Concat(Header(id: Id, flags: 0x0100), Question("www.allowed.test"));

        Assert.Equal(DnsResponseParser.Outcome.Mismatch, Parse(otherId, out _));
        Assert.Equal(DnsResponseParser.Outcome.Mismatch, Parse(otherName, out _));
        Assert.Equal(DnsResponseParser.Outcome.Mismatch, Parse(otherType, out _));
        Assert.Equal(DnsResponseParser.Outcome.Mismatch, Parse(notResponse, out _));
        Assert.Equal(DnsResponseParser.Outcome.Mismatch, Parse([1, 2, 3], out _));
    }

    [Fact]
    public void The_question_is_matched_without_case()
    {
        var message = Concat(Header(id: Id, flags: 0x8183), Question("WWW.Allowed.TEST"));

        Assert.Equal(DnsResponseParser.Outcome.Response, Parse(message, out var response));
        Assert.Equal(DnsResponseCode.NameError, response!.ResponseCode);
    }

    public static TheoryData<string, byte[]> Malformed() => new()
    {
        { "an A record of five bytes", Response(1, Record(Pointer(12), 1, 60, [1, 2, 3, 4, 5])) },
        { "an AAAA record of four bytes", Response(1, Record(Pointer(12), 28, 60, [1, 2, 3, 4])) },
        { "a CNAME whose name runs past its data", Response(1, Record(Pointer(12), 5, 60, [1, (byte)'a'])) },
        { "a CNAME with bytes after its name", Response(1, Record(Pointer(12), 5, 60, Concat(Name("a.test"), [0]))) },
        { "a CNAME pointing forward", Response(1, Record(Pointer(12), 5, 60, Pointer(0x100))) },
        { "record data past the end", Concat(Response(1, Record(Pointer(12), 99, 60, new byte[20]))[..^5]) },
        { "more answers counted than present", Response(2, Record(Pointer(12), 1, 60, [1, 2, 3, 4])) },
        { "a TXT string longer than its data", Response(1, Record(Pointer(12), 16, 60, [5, (byte)'a'])) },
        { "an empty TXT record", Response(1, Record(Pointer(12), 16, 60, [])) },
        { "two questions", Concat(Header(id: Id, flags: 0x8180, qd: 2), Question("www.allowed.test"), Question("www.allowed.test")) },
        { "an owner name loop", Response(1, Record(Pointer(12 + 22), 1, 60, [1, 2, 3, 4])) },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Malformed_answers_fail_the_upstream(string what, byte[] message)
    {
        Assert.True(DnsResponseParser.Outcome.Malformed == Parse(message, out _), what);
    }

    [Fact]
    public void Unknown_types_and_other_classes_are_skipped()
    {
        var message = Response(3,
            Record(Pointer(12), 99, 60, [1, 2, 3]),
            Record(Pointer(12), 1, 60, [9, 9, 9, 9], @class: 3),
            Record(Pointer(12), 1, 60, [10, 1, 2, 3]));

        Assert.Equal(DnsResponseParser.Outcome.Response, Parse(message, out var response));
        Assert.Equal([10, 1, 2, 3], Assert.Single(response!.Answers).Fixed);
    }

    [Fact]
    public void Truncated_answers_say_so_and_carry_no_records()
    {
        var message = Concat(Header(id: Id, flags: 0x8380, an: 1), Question("www.allowed.test"), Record(Pointer(12), 1, 60, [1, 2, 3, 4]));

        Assert.Equal(DnsResponseParser.Outcome.Response, Parse(message, out var response));
        Assert.True(response!.Truncated);
        Assert.Empty(response.Answers);
    }

    [Fact]
    public void Random_corruptions_of_an_answer_never_throw()
    {
        var valid = Response(2, Record(Pointer(12), 5, 60, Name("edge.cdn.test")), Record(Pointer(12 + 22 + 12), 1, 60, [1, 2, 3, 4]));
        var random = new Random(55);
        for (var i = 0; i < 20_000; i++)
        {
            var message = (byte[])valid.Clone();
            for (var flips = random.Next(1, 4); flips > 0; flips--)
            {
                message[random.Next(12, message.Length)] = (byte)random.Next(256);
            }

            Parse(message[..random.Next(12, message.Length + 1)], out _);
        }
    }
}
