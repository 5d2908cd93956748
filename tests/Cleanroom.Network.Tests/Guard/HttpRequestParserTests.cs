using System.Text;
using Cleanroom.Network.Guard;

namespace Cleanroom.Network.Tests.Guard;

public class HttpRequestParserTests
{
    private const int Max = 16 * 1024;

    private static FirstMessage Classify(string text) => FirstMessageClassifier.Classify(Encoding.Latin1.GetBytes(text), Max);

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nHost: www.Example.test\r\n\r\n", "www.example.test")]
    [InlineData("GET /x?y HTTP/1.1\r\nUser-Agent: t\r\nhost:   www.example.test:8080  \r\nAccept: */*\r\n\r\n", "www.example.test")]
    [InlineData("POST /up HTTP/1.0\r\nHOST: www.example.test.\r\nContent-Length: 3\r\n\r\nabc", "www.example.test")]
    [InlineData("GET / HTTP/1.1\r\nHost: [2001:db8::1]:80\r\n\r\n", "2001:db8::1")]
    [InlineData("GET / HTTP/1.1\r\nHost: 192.0.2.7\r\n\r\n", "192.0.2.7")]
    public void The_Host_header_is_read_without_its_port(string request, string host)
    {
        var message = Classify(request);

        Assert.Equal(FirstMessageKind.Http, message.Kind);
        Assert.Equal([host], message.Names);
    }

    [Fact]
    public void An_absolute_form_or_connect_target_is_checked_besides_Host()
    {
        var absolute = Classify("GET http://denied.test/secret HTTP/1.1\r\nHost: allowed.test\r\n\r\n");
        var connect = Classify("CONNECT denied.test:443 HTTP/1.1\r\nHost: allowed.test:443\r\n\r\n");
        var same = Classify("GET http://allowed.test:80/ HTTP/1.1\r\nHost: allowed.test\r\n\r\n");

        Assert.Equal(["allowed.test", "denied.test"], absolute.Names);
        Assert.Equal(["allowed.test", "denied.test"], connect.Names);
        Assert.Equal(["allowed.test"], same.Names);
    }

    [Fact]
    public void Every_prefix_of_a_request_head_asks_for_more()
    {
        const string request = "GET /index.html HTTP/1.1\r\nHost: www.example.test\r\nAccept: */*\r\n\r\n";
        for (var cut = 0; cut < request.Length; cut++)
        {
            Assert.Equal(FirstMessageKind.NeedMore, Classify(request[..cut]).Kind);
        }

        Assert.Equal(FirstMessageKind.Http, Classify(request).Kind);
    }

    [Theory]
    [InlineData("missing Host", "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n")]
    [InlineData("missing Host in 1.0", "GET / HTTP/1.0\r\n\r\n")]
    [InlineData("duplicate Host", "GET / HTTP/1.1\r\nHost: allowed.test\r\nHost: denied.test\r\n\r\n")]
    [InlineData("duplicate Host, other case", "GET / HTTP/1.1\r\nHost: allowed.test\r\nhOsT: denied.test\r\n\r\n")]
    [InlineData("space before colon", "GET / HTTP/1.1\r\nHost : denied.test\r\nHost: allowed.test\r\n\r\n")]
    [InlineData("folded header", "GET / HTTP/1.1\r\nHost: allowed.test\r\n denied.test\r\n\r\n")]
    [InlineData("bare LF inside head", "GET / HTTP/1.1\r\nHost: allowed.test\nHost: denied.test\r\n\r\n")]
    [InlineData("bare LF request line", "GET / HTTP/1.1\nHost: denied.test\n\n")]
    [InlineData("empty Host", "GET / HTTP/1.1\r\nHost: \r\n\r\n")]
    [InlineData("user info in Host", "GET / HTTP/1.1\r\nHost: allowed.test@denied.test\r\n\r\n")]
    [InlineData("bad port", "GET / HTTP/1.1\r\nHost: allowed.test:99999\r\n\r\n")]
    [InlineData("NUL in Host", "GET / HTTP/1.1\r\nHost: allowed.test\0denied.test\r\n\r\n")]
    [InlineData("HTTP/2 prior knowledge", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")]
    [InlineData("odd version", "GET / HTTP/1.2\r\nHost: a.test\r\n\r\n")]
    [InlineData("lower-case version", "GET / http/1.1\r\nHost: a.test\r\n\r\n")]
    [InlineData("unreadable absolute target", "GET http://de nied/ HTTP/1.1\r\nHost: a.test\r\n\r\n")]
    [InlineData("too many header lines", "GET / HTTP/1.1\r\nHost: a.test\r\n" + "X: y\r\n" + "X: y\r\n" + "X: y\r\n")]
    public void A_request_the_guard_cannot_check_is_refused(string why, string request)
    {
        if (why == "too many header lines")
        {
            request = "GET / HTTP/1.1\r\nHost: a.test\r\n" + string.Concat(Enumerable.Repeat("X: y\r\n", HttpRequestParser.MaxHeaders)) + "\r\n";
        }

        var message = Classify(request);

        Assert.True(message.Kind == FirstMessageKind.Malformed, $"{why}: {message}");
        Assert.Empty(message.Names);
    }

    [Fact]
    public void Absurdly_long_headers_never_complete_within_the_bound()
    {
        var request = "GET / HTTP/1.1\r\nHost: a.test\r\nX-Long: " + new string('a', Max);

        Assert.Equal(FirstMessageKind.NeedMore, Classify(request[..Max]).Kind);
    }

    [Theory]
    [InlineData("SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\n")]
    [InlineData("SSH-2.0-OpenSSH_9.6\r\n")]
    [InlineData("PING\r\n")]
    [InlineData("\0\0\0\x08\x04\xd2\x16\x2f")]
    [InlineData("hello\n")]
    [InlineData("\x16\x02garbage")]
    public void Bytes_that_are_not_TLS_or_HTTP_are_another_protocol(string bytes)
    {
        Assert.Equal(FirstMessageKind.Other, Classify(bytes).Kind);
    }

    [Fact]
    public void A_long_token_without_a_space_is_another_protocol_at_once()
    {
        Assert.Equal(FirstMessageKind.Other, Classify(new string('A', 40)).Kind);
        Assert.Equal(FirstMessageKind.NeedMore, Classify("OPTIONS").Kind);
    }
}
