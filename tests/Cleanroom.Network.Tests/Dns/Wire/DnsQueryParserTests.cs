using Cleanroom.Network.Dns.Wire;
using static Cleanroom.Network.Tests.Dns.Wire.WireBytes;

namespace Cleanroom.Network.Tests.Dns.Wire;

/// <summary>What a guest may send: one standard query with one IN question and at most an OPT record.</summary>
public sealed class DnsQueryParserTests
{
    private static DnsQueryParser.Outcome Parse(byte[] message) => DnsQueryParser.Parse(message, out _, out _);

    [Fact]
    public void A_plain_query_is_parsed()
    {
        var outcome = DnsQueryParser.Parse(Concat(Header(id: 0xBEEF), Question("Allowed.Test", type: 28)), out _, out var query);

        Assert.Equal(DnsQueryParser.Outcome.Query, outcome);
        Assert.Equal(0xBEEF, query!.Id);
        Assert.True(query.RecursionDesired);
        Assert.Equal("Allowed.Test", query.Question.Name.ToString());
        Assert.Equal(28, query.Question.Type);
        Assert.Null(query.EdnsUdpSize);
    }

    [Fact]
    public void An_opt_record_gives_the_guests_buffer_size()
    {
        var message = Concat(Header(ar: 1), Question("a.test"), Opt(4096, [0, 10, 0, 2, 0xAB, 0xCD]));

        Assert.Equal(DnsQueryParser.Outcome.Query, DnsQueryParser.Parse(message, out _, out var query));
        Assert.Equal((ushort)4096, query!.EdnsUdpSize);
    }

    [Fact]
    public void Short_messages_and_responses_are_dropped()
    {
        Assert.Equal(DnsQueryParser.Outcome.Drop, Parse([]));
        Assert.Equal(DnsQueryParser.Outcome.Drop, Parse(Header()[..11]));
        Assert.Equal(DnsQueryParser.Outcome.Drop, Parse(Concat(Header(flags: 0x8180), Question("a.test"))));
    }

    public static TheoryData<string, byte[]> Malformed() => new()
    {
        { "no question", Header(qd: 0) },
        { "two questions", Concat(Header(qd: 2), Question("a.test"), Question("b.test")) },
        { "an answer record", Concat(Header(an: 1), Question("a.test"), Record(Pointer(12), 1, 60, [1, 2, 3, 4])) },
        { "an authority record", Concat(Header(ns: 1), Question("a.test"), Record(Pointer(12), 1, 60, [1, 2, 3, 4])) },
        { "two additional records", Concat(Header(ar: 2), Question("a.test"), Opt(), Opt()) },
        { "an additional record that is not OPT", Concat(Header(ar: 1), Question("a.test"), Record(Pointer(12), 1, 60, [1, 2, 3, 4])) },
        { "an OPT record with a name", Concat(Header(ar: 1), Question("a.test"), Name("x"), Opt()[1..]) },
        { "an OPT record cut short", Concat(Header(ar: 1), Question("a.test"), Opt()[..8]) },
        { "OPT options longer than the message", Concat(Header(ar: 1), Question("a.test"), [0], UInt16(41), UInt16(512), UInt32(0), UInt16(100)) },
        { "the question cut short", Concat(Header(), Name("a.test"), [0, 1]) },
        { "bytes after the question", Concat(Header(), Question("a.test"), [0]) },
        { "a compressed question", Concat(Header(), [1, (byte)'a'], Pointer(12), UInt16(1), UInt16(1)) },
        { "a compression loop in the question", Concat(Header(), Pointer(12), UInt16(1), UInt16(1)) },
        { "a name over 255 bytes", Concat(Header(), Question(string.Join('.', Enumerable.Repeat(new string('x', 63), 4))), []) },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Malformed_queries_get_format_errors(string what, byte[] message)
    {
        Assert.True(DnsQueryParser.Outcome.FormatError == Parse(message), what);
    }

    [Fact]
    public void Other_opcodes_and_classes_are_not_implemented()
    {
        var status = Concat(Header(flags: 2 << 11), Question("a.test"));
        var chaos = Concat(Header(), Name("version.bind"), UInt16(16), UInt16(3));

        Assert.Equal(DnsQueryParser.Outcome.NotImplemented, Parse(status));
        Assert.Equal(DnsQueryParser.Outcome.NotImplemented, Parse(chaos));
    }

    [Fact]
    public void Random_bytes_never_throw()
    {
        var random = new Random(53);
        var outcomes = new HashSet<DnsQueryParser.Outcome>();
        for (var i = 0; i < 20_000; i++)
        {
            var message = new byte[random.Next(0, 600)];
            random.NextBytes(message);
            if (i % 2 == 0 && message.Length >= 12)
            {
                // Half with a plausible header, so the parser gets past it into the question and records.
                Header(qd: 1, ar: (ushort)random.Next(0, 2), flags: 0x0100).CopyTo(message, 0);
            }

            outcomes.Add(Parse(message));
        }

        Assert.Contains(DnsQueryParser.Outcome.FormatError, outcomes);
        Assert.Contains(DnsQueryParser.Outcome.Drop, outcomes);
    }

    [Fact]
    public void Random_corruptions_of_a_valid_query_never_throw()
    {
        var valid = Concat(Header(ar: 1), Question("www.allowed.test"), Opt());
        var random = new Random(54);
        for (var i = 0; i < 20_000; i++)
        {
            var message = (byte[])valid.Clone();
            for (var flips = random.Next(1, 4); flips > 0; flips--)
            {
                message[random.Next(message.Length)] = (byte)random.Next(256);
            }

            Parse(message[..random.Next(message.Length + 1)]);
        }
    }
}
