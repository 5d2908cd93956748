using Cleanroom.Network.Dns.Wire;

namespace Cleanroom.Network.Tests.Dns.Wire;

/// <summary>The messages the filter writes: upstream queries, and answers that fit the guest's transport.</summary>
public sealed class DnsMessageBuilderTests
{
    private static DnsName ParseName(string text)
    {
        Assert.True(DnsName.TryParse(text, out var name));
        return name;
    }

    [Fact]
    public void An_upstream_query_holds_only_the_question_and_an_opt_record()
    {
        var question = new DnsQuestion(ParseName("www.allowed.test"), 28, 1);

        var query = DnsMessageBuilder.Query(0x1234, question, 1232);

        Assert.Equal(DnsQueryParser.Outcome.Query, DnsQueryParser.Parse(query, out var header, out var parsed));
        Assert.Equal(0x1234, header.Id);
        Assert.Equal(DnsHeader.RecursionDesiredFlag, header.Flags);
        Assert.True(parsed!.Question.Matches(question));
        Assert.Equal((ushort)1232, parsed.EdnsUdpSize);
    }

    [Fact]
    public void An_answer_round_trips_with_owner_names_compressed()
    {
        var question = new DnsQuestion(ParseName("www.allowed.test"), 1, 1);
        var records = new[]
        {
            new DnsRecord(ParseName("WWW.allowed.test"), DnsRecordType.Cname, 60, [], ParseName("edge.cdn.test")),
            new DnsRecord(ParseName("edge.cdn.test"), DnsRecordType.A, 60, [10, 7, 7, 7], null),
            new DnsRecord(ParseName("edge.cdn.test"), DnsRecordType.A, 60, [10, 7, 7, 8], null),
        };

        var message = DnsMessageBuilder.Response(0x4242, true, DnsResponseCode.NoError, question, records, null, 512);

        Assert.Equal(DnsResponseParser.Outcome.Response, DnsResponseParser.Parse(message, 0x4242, question, out var parsed));
        Assert.Equal(records.Select(r => (r.Owner, r.Type, r.Ttl, r.Target)), parsed!.Answers.Select(r => (r.Owner, r.Type, r.Ttl, r.Target)));
        Assert.Equal([10, 7, 7, 8], parsed.Answers[2].Fixed);

        // The first owner points at the question; the A owners point at the name written once, inside the CNAME.
        var uncompressed = 12 + 22 + 3 * 10 + 18 + 15 + 2 * 4 + 2 * 15;
        Assert.Equal(uncompressed - 18 - 15 - 15 + 3 * 2, message.Length);
    }

    [Fact]
    public void An_answer_too_long_for_the_transport_is_truncated_to_its_question()
    {
        var question = new DnsQuestion(ParseName("many.allowed.test"), 1, 1);
        var records = Enumerable.Range(0, 40)
            .Select(i => new DnsRecord(question.Name, DnsRecordType.A, 60, [10, 0, 0, (byte)i], null))
            .ToList();

        var udp = DnsMessageBuilder.Response(7, true, DnsResponseCode.NoError, question, records, null, 512);
        var tcp = DnsMessageBuilder.Response(7, true, DnsResponseCode.NoError, question, records, null, ushort.MaxValue);

        Assert.True(DnsHeader.TryRead(udp, out var truncated));
        Assert.True(truncated.IsTruncated);
        Assert.Equal(0, truncated.AnswerCount);
        Assert.Equal(DnsResponseParser.Outcome.Response, DnsResponseParser.Parse(tcp, 7, question, out var full));
        Assert.Equal(40, full!.Answers.Count);
    }

    [Fact]
    public void The_writer_stops_at_its_bound_instead_of_throwing()
    {
        var writer = new DnsWriter(5);

        writer.WriteUInt32(1);
        writer.WriteUInt16(2);
        writer.WriteUInt16(3);

        Assert.True(writer.Overflowed);
        Assert.Equal(4, writer.ToArray().Length);
    }
}
