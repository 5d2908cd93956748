using System.Net;
using System.Text;
using System.Text.Json;
using Cleanroom.Api.V1;
using Google.Protobuf;

namespace Cleanroom.Daemon.Tests;

/// <summary>What the Connect endpoint answers to requests it cannot serve: each with its code, status and reason.</summary>
public sealed class ConnectBadInputTests : IAsyncLifetime
{
    private const string ListSandboxes = "/cleanroom.v1.SandboxService/ListSandboxes";
    private const int MaxMessageBytes = 4 * 1024 * 1024;

    private ControlApiHost _host = null!;

    public async Task InitializeAsync() => _host = await ControlApiHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private async Task<(HttpStatusCode Status, string Code, string Message, string Reason)> Unary(HttpRequestMessage request)
    {
        using var response = await _host.Http1.SendAsync(request);
        var (code, message, reason) = await ConnectWire.UnaryErrorAsync(response);
        Assert.DoesNotContain(message, c => char.IsControl(c));
        return (response.StatusCode, code, message, reason);
    }

    [Theory]
    [InlineData("{\"all\":")]
    [InlineData("{\"all\":\"\u001b]0;pwned\u0007\"}")]
    [InlineData("[1,2]")]
    public async Task Malformed_json_is_invalid_argument_with_an_escaped_message(string body)
    {
        var (status, code, message, reason) = await Unary(ConnectWire.PostJson(ListSandboxes, body));

        Assert.Equal((HttpStatusCode.BadRequest, "invalid_argument", "invalid_argument"), (status, code, reason));
        Assert.Contains("cleanroom.v1.ListSandboxesRequest", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Json_that_is_not_utf8_and_a_truncated_proto_are_invalid_argument()
    {
        var notUtf8 = await Unary(ConnectWire.Post(ListSandboxes, "application/json", [(byte)'{', 0xff, 0xfe, (byte)'}']));
        var truncated = await Unary(ConnectWire.Post(ListSandboxes, "application/proto", [0x0a, 0xff]));

        Assert.Equal((HttpStatusCode.BadRequest, "invalid_argument"), (notUtf8.Status, notUtf8.Code));
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_argument"), (truncated.Status, truncated.Code));
    }

    [Fact]
    public async Task A_message_over_the_limit_is_resource_exhausted()
    {
        var unary = await Unary(ConnectWire.Post(ListSandboxes, "application/proto", new byte[MaxMessageBytes + 1]));
        Assert.Equal((HttpStatusCode.TooManyRequests, "resource_exhausted", "request_too_large"), (unary.Status, unary.Code, unary.Reason));

        // A stream's envelope announcing more than the limit is refused from its header.
        var header = ConnectWire.Envelope(0, [])[..5];
        header[1] = 0x00;
        header[2] = 0x50; // 5 MiB
        using var response = await _host.Http1.SendAsync(ConnectWire.Post("/cleanroom.v1.SandboxService/StreamSandboxEvents", "application/connect+proto", header));
        var end = Assert.Single(await ConnectWire.ReadAllFramesAsync(response));
        using var json = JsonDocument.Parse(end.Data);
        Assert.Equal("resource_exhausted", ConnectWire.Error(json.RootElement.GetProperty("error")).Code);
    }

    [Theory]
    [InlineData("/cleanroom.v1.SandboxService/NoSuchMethod")]
    [InlineData("/cleanroom.v1.NoSuchService/ListSandboxes")]
    [InlineData("/cleanroom.v1.Evil%1B%5B2J/X")]
    public async Task An_unknown_procedure_is_unimplemented_with_404(string path)
    {
        var (status, code, message, reason) = await Unary(ConnectWire.PostJson(path, "{}"));

        Assert.Equal((HttpStatusCode.NotFound, "unimplemented", "route_not_found"), (status, code, reason));
        Assert.StartsWith("no procedure '", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/json; charset=latin1")]
    [InlineData("application/connect+json")] // a stream's content type on a unary method
    public async Task A_content_type_no_protocol_speaks_here_is_415(string contentType)
    {
        using var response = await _host.Http1.SendAsync(ConnectWire.Post(ListSandboxes, contentType, "{}"u8.ToArray()));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Contains("application/proto", response.Headers.GetValues("Accept-Post").Single(), StringComparison.Ordinal);
        Assert.Equal("invalid_argument", (await ConnectWire.UnaryErrorAsync(response)).Code);
    }

    [Fact]
    public async Task A_client_streaming_rpc_is_unimplemented_and_says_to_use_grpc()
    {
        var chunk = ConnectWire.Envelope(0, new ImportImageChunk().ToByteArray());
        using var response = await _host.Http1.SendAsync(ConnectWire.Post("/cleanroom.v1.ImageService/ImportImage", "application/connect+proto", chunk));

        var end = Assert.Single(await ConnectWire.ReadAllFramesAsync(response));
        using var json = JsonDocument.Parse(end.Data);
        var (code, message, _) = ConnectWire.Error(json.RootElement.GetProperty("error"));
        Assert.Equal("unimplemented", code);
        Assert.Contains("gRPC", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Connect-Protocol-Version", "2")]
    [InlineData("Connect-Timeout-Ms", "soon")]
    [InlineData("Connect-Timeout-Ms", "12345678901")]
    [InlineData("Content-Encoding", "br")]
    public async Task Protocol_headers_it_cannot_honour_are_refused(string name, string value)
    {
        var (status, code, _, _) = await Unary(ConnectWire.PostJson(ListSandboxes, "{}", (name, value)));

        Assert.Equal(name == "Content-Encoding" ? ("unimplemented", HttpStatusCode.NotImplemented) : ("invalid_argument", HttpStatusCode.BadRequest), (code, status));
    }

    [Fact]
    public async Task A_get_of_a_method_not_marked_side_effect_free_is_405()
    {
        using var response = await _host.Http1.GetAsync("/cleanroom.v1.SandboxService/CreateSandbox?encoding=json&message=%7B%7D");

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal("POST", response.Content.Headers.Allow.Single());
        Assert.Equal("method_not_allowed", (await ConnectWire.UnaryErrorAsync(response)).Reason);
    }
}
