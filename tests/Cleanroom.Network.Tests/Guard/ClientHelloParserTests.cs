using Cleanroom.Network.Guard;
using Cleanroom.Network.Tests.Guard.Support;

namespace Cleanroom.Network.Tests.Guard;

public class ClientHelloParserTests
{
    private const int Max = 16 * 1024;

    [Fact]
    public void The_server_name_is_read_lower_case_without_its_trailing_dot()
    {
        var message = FirstMessageClassifier.Classify(TlsBytes.ClientHello("API.Example.TEST."), Max);

        Assert.Equal(FirstMessageKind.TlsClientHello, message.Kind);
        Assert.Equal(["api.example.test"], message.Names);
    }

    [Fact]
    public void A_ClientHello_split_across_records_is_read_whole_and_each_prefix_asks_for_more()
    {
        var bytes = TlsBytes.ClientHello("split.example.test", fragment: 40);
        Assert.True(bytes.Length > 2 * (40 + 5));

        for (var cut = 0; cut < bytes.Length; cut++)
        {
            Assert.Equal(FirstMessageKind.NeedMore, FirstMessageClassifier.Classify(bytes.AsSpan(0, cut), Max).Kind);
        }

        Assert.Equal(["split.example.test"], FirstMessageClassifier.Classify(bytes, Max).Names);
    }

    [Fact]
    public void A_ClientHello_without_server_name_or_without_extensions_names_nothing()
    {
        var withoutName = FirstMessageClassifier.Classify(TlsBytes.ClientHello(null), Max);
        var withoutExtensions = FirstMessageClassifier.Classify(TlsBytes.Records(TlsBytes.Handshake(TlsBytes.ClientHelloBody(null))), Max);

        Assert.Equal(new FirstMessage(FirstMessageKind.TlsClientHello, []).Kind, withoutName.Kind);
        Assert.Empty(withoutName.Names);
        Assert.Equal(FirstMessageKind.TlsClientHello, withoutExtensions.Kind);
        Assert.Empty(withoutExtensions.Names);
    }

    public static TheoryData<string, byte[]> Malformed()
    {
        var good = TlsBytes.Handshake(TlsBytes.ClientHelloBody([(0, TlsBytes.ServerName("a.test"))]));
        var data = new TheoryData<string, byte[]>
        {
            { "record length over 2^14", [22, 3, 1, 0x40, 0x01, .. new byte[0x4001]] },
            { "record length zero", [22, 3, 1, 0, 0] },
            { "second record not TLS", [.. TlsBytes.Records(good[..10]), 22, 2, 0, 0, 2, 1, 1] },
            { "server hello first", TlsBytes.Records(TlsBytes.Handshake(TlsBytes.ClientHelloBody(null), type: 2)) },
            { "handshake length over the bound", TlsBytes.Records([1, 0x01, 0x00, 0x00, .. new byte[60]]) },
            { "alert between fragments", [.. TlsBytes.Records(good[..10]), 21, 3, 3, 0, 2, 2, 40] },
            { "session id longer than 32", TlsBytes.Records(TlsBytes.Handshake([3, 3, .. new byte[32], 33, .. new byte[33], 0, 2, 0x13, 1, 1, 0])) },
            { "odd cipher suites length", TlsBytes.Records(TlsBytes.Handshake([3, 3, .. new byte[32], 0, 0, 3, 0x13, 1, 0, 1, 0])) },
            { "no compression methods", TlsBytes.Records(TlsBytes.Handshake([3, 3, .. new byte[32], 0, 0, 2, 0x13, 1, 0])) },
            { "cipher suites longer than the message", TlsBytes.Records(TlsBytes.Handshake([3, 3, .. new byte[32], 0, 0x10, 0])) },
            { "extensions length lies", TlsBytes.Records(TlsBytes.Handshake([.. TlsBytes.ClientHelloBody(null), 0, 9, 0, 0, 0, 1, 0])) },
            { "bytes after the extensions", TlsBytes.Records(TlsBytes.Handshake([.. TlsBytes.ClientHelloBody([(0, TlsBytes.ServerName("a.test"))]), 0])) },
            { "extension length lies", TlsBytes.Records(TlsBytes.Handshake(TlsBytes.ClientHelloBody([(0, [0, 50, 0, 0, 6, .. "a.test"u8])]))) },
            { "server name list length lies", TlsBytes.Records(TlsBytes.Handshake(TlsBytes.ClientHelloBody([(0, [0, 3, 0, 0, 6, .. "a.test"u8])]))) },
            { "two server_name extensions", TlsBytes.Records(TlsBytes.Handshake(TlsBytes.ClientHelloBody([(0, TlsBytes.ServerName("a.test")), (0, TlsBytes.ServerName("b.test"))]))) },
            { "two host names", TlsBytes.Records(TlsBytes.Handshake(TlsBytes.ClientHelloBody([(0, TlsBytes.ServerNameEntries((0, "a.test"u8.ToArray()), (0, "b.test"u8.ToArray())))]))) },
            { "unknown name type", TlsBytes.Records(TlsBytes.Handshake(TlsBytes.ClientHelloBody([(0, TlsBytes.ServerNameEntries((1, "a.test"u8.ToArray())))]))) },
            { "empty server_name extension", TlsBytes.Records(TlsBytes.Handshake(TlsBytes.ClientHelloBody([(0, [])]))) },
            { "name with a NUL", TlsBytes.Records(TlsBytes.Handshake(TlsBytes.ClientHelloBody([(0, TlsBytes.ServerNameEntries((0, "allowed.test\0.evil"u8.ToArray())))]))) },
            { "name with a space", TlsBytes.Records(TlsBytes.Handshake(TlsBytes.ClientHelloBody([(0, TlsBytes.ServerName("a b.test"))]))) },
            { "empty label", TlsBytes.Records(TlsBytes.Handshake(TlsBytes.ClientHelloBody([(0, TlsBytes.ServerName("a..test"))]))) },
            { "label over 63", TlsBytes.Records(TlsBytes.Handshake(TlsBytes.ClientHelloBody([(0, TlsBytes.ServerName(new string('a', 64) + ".test"))]))) },
            { "name over 253", TlsBytes.Records(TlsBytes.Handshake(TlsBytes.ClientHelloBody([(0, TlsBytes.ServerName(string.Join('.', Enumerable.Repeat(new string('a', 60), 5))))]))) },
        };
        return data;
    }

    [Theory]
    [MemberData(nameof(Malformed))]
    public void A_malformed_ClientHello_is_refused_not_guessed_at(string why, byte[] bytes)
    {
        var message = FirstMessageClassifier.Classify(bytes, Max);

        Assert.True(message.Kind == FirstMessageKind.Malformed, $"{why}: {message}");
        Assert.Empty(message.Names);
        Assert.NotNull(message.Problem);
    }

    [Fact]
    public void A_handshake_length_that_promises_more_than_was_sent_asks_for_more()
    {
        var bytes = TlsBytes.Records([1, 0, 0x10, 0, .. new byte[50]]);

        Assert.Equal(FirstMessageKind.NeedMore, FirstMessageClassifier.Classify(bytes, Max).Kind);
    }

    [Fact]
    public void Random_bytes_after_a_handshake_record_header_never_throw()
    {
        var random = new Random(1234);
        for (var i = 0; i < 2000; i++)
        {
            var bytes = new byte[random.Next(5, 300)];
            random.NextBytes(bytes);
            bytes[0] = 22;
            bytes[1] = 3;
            var kind = FirstMessageClassifier.Classify(bytes, Max).Kind;
            Assert.True(kind is FirstMessageKind.NeedMore or FirstMessageKind.Malformed or FirstMessageKind.TlsClientHello);
        }
    }
}
