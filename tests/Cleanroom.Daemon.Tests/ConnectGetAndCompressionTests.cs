using System.IO.Compression;
using System.Net;
using System.Text;
using System.Text.Json;
using Cleanroom.Api.V1;
using Cleanroom.Client;
using Cleanroom.Guest.Wire.Messages;
using Google.Protobuf;
using Grpc.Core;

namespace Cleanroom.Daemon.Tests;

/// <summary>
/// The Connect GET form of side-effect-free unary calls, gzip in both directions (with the inflated size bounded) and
/// the response size limit, on the daemon's real endpoints.
/// </summary>
public sealed class ConnectGetAndCompressionTests
{
    private const string ListSandboxes = "/cleanroom.v1.SandboxService/ListSandboxes";
    private const string GetSandbox = "/cleanroom.v1.SandboxService/GetSandbox";
    private const string TerminateSandbox = "/cleanroom.v1.SandboxService/TerminateSandbox";
    private const string StreamSandboxEvents = "/cleanroom.v1.SandboxService/StreamSandboxEvents";
    private const string StreamExecution = "/cleanroom.v1.ExecutionService/StreamExecution";
    private const int MaxMessageBytes = 4 * 1024 * 1024;

    [Fact]
    public async Task A_get_calls_a_side_effect_free_method_in_json_and_in_base64_proto_over_http1_and_http2()
    {
        await using var host = await ControlApiHost.StartAsync();
        var sandbox = await host.Harness.CreateAsync();

        using var json = await host.Http1.GetAsync($"{ListSandboxes}?connect=v1&encoding=json&message={Uri.EscapeDataString("{\"all\": true}")}");
        Assert.Equal(HttpStatusCode.OK, json.StatusCode);
        Assert.Equal("application/json", json.Content.Headers.ContentType?.MediaType);
        var list = JsonParser.Default.Parse<ListSandboxesResponse>(await json.Content.ReadAsStringAsync());
        Assert.Equal(sandbox.Id, Assert.Single(list.Sandboxes).SandboxId);

        // Binary in URL-safe base64 without padding, as connect-es writes it; the connect parameter is optional.
        var message = Convert.ToBase64String(new GetSandboxRequest { SandboxId = sandbox.Id }.ToByteArray()).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        using var proto = await host.Http2.GetAsync($"{GetSandbox}?encoding=proto&base64=1&message={message}");
        Assert.Equal(HttpStatusCode.OK, proto.StatusCode);
        Assert.Equal(HttpVersion.Version20, proto.Version);
        Assert.Equal("application/proto", proto.Content.Headers.ContentType?.MediaType);
        Assert.Equal(sandbox.Id, GetSandboxResponse.Parser.ParseFrom(await proto.Content.ReadAsByteArrayAsync()).Sandbox.SandboxId);

        // A service error reads as over POST.
        using var missing = await host.Http1.GetAsync($"{GetSandbox}?encoding=json&message=%7B%22sandboxId%22%3A%2201kr7p9ksmfa7rmyypyqw2w8r0%22%7D");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("sandbox_not_found", (await ConnectWire.UnaryErrorAsync(missing)).Reason);
    }

    [Fact]
    public async Task A_get_of_a_method_that_changes_state_or_streams_is_405_and_runs_nothing()
    {
        await using var host = await ControlApiHost.StartAsync();
        var sandbox = await host.Harness.CreateAsync();

        var message = Uri.EscapeDataString($$"""{"sandboxId":"{{sandbox.Id}}"}""");
        using var terminate = await host.Http1.GetAsync($"{TerminateSandbox}?connect=v1&encoding=json&message={message}");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, terminate.StatusCode);
        Assert.Equal("POST", terminate.Content.Headers.Allow.Single());
        var (code, text, reason) = await ConnectWire.UnaryErrorAsync(terminate);
        Assert.Equal(("unimplemented", "method_not_allowed"), (code, reason));
        Assert.Contains("TerminateSandbox may change the daemon's state", text, StringComparison.Ordinal);
        Assert.Equal(State.SandboxStatus.Ready, host.Harness.Manager.Get(sandbox.Id).Status);

        using var stream = await host.Http1.GetAsync($"{StreamSandboxEvents}?encoding=json&message={message}");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, stream.StatusCode);

        // A method that GET serves names both in Allow when some other verb is used.
        using var put = await host.Http1.SendAsync(new HttpRequestMessage(HttpMethod.Put, ListSandboxes) { Content = new StringContent("{}", Encoding.UTF8, "application/json") });
        Assert.Equal(HttpStatusCode.MethodNotAllowed, put.StatusCode);
        Assert.Equal(["GET", "POST"], put.Content.Headers.Allow.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("message=%7B%7D", "encoding")]
    [InlineData("encoding=json", "message")]
    [InlineData("encoding=xml&message=%7B%7D", "proto or json")]
    [InlineData("connect=v2&encoding=json&message=%7B%7D", "v1")]
    [InlineData("encoding=proto&base64=1&message=!!!", "base64")]
    public async Task A_get_without_what_it_needs_is_invalid_argument(string query, string said)
    {
        await using var host = await ControlApiHost.StartAsync();

        using var response = await host.Http1.GetAsync($"{ListSandboxes}?{query}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var (code, message, _) = await ConnectWire.UnaryErrorAsync(response);
        Assert.Equal("invalid_argument", code);
        Assert.Contains(said, message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_gzipped_unary_request_is_served_and_the_response_is_gzipped_when_the_client_accepts_it()
    {
        await using var host = await ControlApiHost.StartAsync();
        // Enough sandboxes that the answer is over the 1 KiB below which responses are sent as they are.
        string plain;
        do
        {
            await host.Harness.CreateAsync();
            using var identity = await host.Http1.SendAsync(ConnectWire.PostJson(ListSandboxes, "{}"));
            Assert.Null(identity.Content.Headers.ContentEncoding.SingleOrDefault());
            plain = await identity.Content.ReadAsStringAsync();
        }
        while (plain.Length < 1024);

        foreach (var client in new[] { host.Http1, host.Http2 })
        {
            using var response = await client.SendAsync(ConnectWire.Post(ListSandboxes, "application/json", Gzip("{}"u8.ToArray()), ("Content-Encoding", "gzip"), ("Accept-Encoding", "br, gzip;q=0.8")));

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("gzip", response.Content.Headers.ContentEncoding.Single());
            var body = await response.Content.ReadAsByteArrayAsync();
            Assert.True(body.Length < plain.Length, $"{body.Length} gzip bytes for {plain.Length}");
            Assert.Equal(plain, Encoding.UTF8.GetString(Gunzip(body)));
        }

        // A q of 0 refuses; * stands for gzip when gzip is not named.
        foreach (var (accept, gzipped) in new[] { ("gzip;q=0", false), ("gzip; q=0.000, *", false), ("*", true), ("*;q=0, GZIP", true), ("identity", false) })
        {
            using var response = await host.Http1.SendAsync(ConnectWire.PostJson(ListSandboxes, "{}", ("Accept-Encoding", accept)));
            Assert.Equal(gzipped ? ["gzip"] : [], response.Content.Headers.ContentEncoding);
            var body = await response.Content.ReadAsByteArrayAsync();
            Assert.Equal(plain, Encoding.UTF8.GetString(gzipped ? Gunzip(body) : body));
        }

        // A GET's message may be gzipped too (base64 then), named by the compression parameter.
        var message = Convert.ToBase64String(Gzip("{}"u8.ToArray())).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        using var get = await host.Http1.GetAsync($"{ListSandboxes}?connect=v1&encoding=json&base64=1&compression=gzip&message={message}");
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(plain, await get.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_stream_takes_a_gzipped_request_and_gzips_its_large_messages()
    {
        await using var host = await ControlApiHost.StartAsync();
        var sandbox = await host.Harness.CreateAsync();
        var line = new string('x', 4000);
        var runner = await host.Harness.Manager.StartExecutionAsync(sandbox.Id, new ExecRequest { Argv = ["echo", line] }, attachStdin: false, CancellationToken.None);
        var request = new StreamExecutionRequest { SandboxId = sandbox.Id, ExecutionId = runner.Record.Id, Follow = true }.ToByteArray();

        using var response = await host.Http2.SendAsync(ConnectWire.Post(
            StreamExecution,
            "application/connect+proto",
            ConnectWire.Envelope(0x01, Gzip(request)),
            ("Connect-Content-Encoding", "gzip"),
            ("Connect-Accept-Encoding", "gzip")));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("gzip", response.Headers.GetValues("Connect-Content-Encoding").Single());
        var frames = await ConnectWire.ReadAllFramesAsync(response);
        var stdout = new StringBuilder();
        var compressed = 0;
        foreach (var (flags, data) in frames.Take(frames.Count - 1))
        {
            compressed += flags & 0x01;
            var evt = ExecutionStreamEvent.Parser.ParseFrom((flags & 0x01) != 0 ? Gunzip(data) : data);
            stdout.Append(evt.Stdout.ToStringUtf8());
        }

        Assert.Equal(line + "\n", stdout.ToString());
        Assert.True(compressed > 0, "no message was gzipped");
        var end = frames[^1];
        Assert.Equal(0x02, end.Flags); // the end of the stream is sent as it is
        Assert.Equal("{}", Encoding.UTF8.GetString(end.Data));
    }

    [Fact]
    public async Task A_stream_message_marked_compressed_without_an_encoding_is_invalid_argument()
    {
        await using var host = await ControlApiHost.StartAsync();
        var sandbox = await host.Harness.CreateAsync();

        var body = ConnectWire.Envelope(0x01, Gzip(new StreamSandboxEventsRequest { SandboxId = sandbox.Id }.ToByteArray()));
        using var response = await host.Http1.SendAsync(ConnectWire.Post(StreamSandboxEvents, "application/connect+proto", body));

        var end = Assert.Single(await ConnectWire.ReadAllFramesAsync(response));
        using var json = JsonDocument.Parse(end.Data);
        var (code, message, _) = ConnectWire.Error(json.RootElement.GetProperty("error"));
        Assert.Equal("invalid_argument", code);
        Assert.Contains("Connect-Content-Encoding", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_gzip_bomb_is_resource_exhausted_without_inflating_it_and_the_daemon_keeps_serving()
    {
        await using var host = await ControlApiHost.StartAsync();
        var sandbox = await host.Harness.CreateAsync();
        // 2 GiB of zeros in about 2 MiB: 128 gzip members of 16 MiB each (one gzip stream to a reader).
        var member = Gzip(new byte[16 << 20]);
        var bomb = Enumerable.Repeat(member, 128).SelectMany(m => m).ToArray();
        Assert.True(bomb.Length < MaxMessageBytes);

        var before = GC.GetTotalAllocatedBytes(precise: true);
        using var unary = await host.Http1.SendAsync(ConnectWire.Post(ListSandboxes, "application/proto", bomb, ("Content-Encoding", "gzip")));
        using var stream = await host.Http1.SendAsync(ConnectWire.Post(StreamSandboxEvents, "application/connect+proto", ConnectWire.Envelope(0x01, bomb), ("Connect-Content-Encoding", "gzip")));
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        Assert.Equal(HttpStatusCode.TooManyRequests, unary.StatusCode);
        var (code, message, reason) = await ConnectWire.UnaryErrorAsync(unary);
        Assert.Equal(("resource_exhausted", "request_too_large"), (code, reason));
        Assert.Equal($"the request message inflates to more than {MaxMessageBytes} bytes (the limit) from {bomb.Length} gzip bytes", message);
        var end = Assert.Single(await ConnectWire.ReadAllFramesAsync(stream));
        using (var json = JsonDocument.Parse(end.Data))
        {
            Assert.Equal("resource_exhausted", ConnectWire.Error(json.RootElement.GetProperty("error")).Code);
        }

        // Both requests together (bodies included) cost a few times the limit, not the 4 GiB they inflate to.
        Assert.True(allocated < 256L << 20, $"{allocated} bytes allocated while refusing the bombs");

        using var after = await host.Http1.SendAsync(ConnectWire.Post(ListSandboxes, "application/json", Gzip("{}"u8.ToArray()), ("Content-Encoding", "gzip")));
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Equal(sandbox.Id, Assert.Single(JsonParser.Default.Parse<ListSandboxesResponse>(await after.Content.ReadAsStringAsync()).Sandboxes).SandboxId);
    }

    [Theory]
    [InlineData("br")]
    [InlineData("zstd")]
    public async Task A_compression_it_does_not_speak_is_unimplemented_and_the_answer_lists_gzip(string encoding)
    {
        await using var host = await ControlApiHost.StartAsync();

        using var response = await host.Http1.SendAsync(ConnectWire.PostJson(ListSandboxes, "{}", ("Content-Encoding", encoding)));

        Assert.Equal(HttpStatusCode.NotImplemented, response.StatusCode);
        Assert.True(response.Headers.NonValidated.TryGetValues("Accept-Encoding", out var accepted), "no Accept-Encoding in the answer");
        Assert.Equal("gzip", accepted.Single());
        var (code, message, _) = await ConnectWire.UnaryErrorAsync(response);
        Assert.Equal("unimplemented", code);
        Assert.Equal($"Content-Encoding '{encoding}' is not supported; this server accepts gzip or identity", message);
    }

    [Fact]
    public async Task A_response_over_the_limit_is_resource_exhausted_in_every_protocol_and_smaller_ones_still_go()
    {
        await using var host = await ControlApiHost.StartAsync(o => o with { MaxResponseMessageBytes = 64 });
        var sandbox = await host.Harness.CreateAsync();

        // Connect unary: the sandbox list is over 64 bytes; the list of another key's sandboxes (none) is not.
        using var json = await host.Http1.SendAsync(ConnectWire.PostJson(ListSandboxes, "{}"));
        Assert.Equal(HttpStatusCode.TooManyRequests, json.StatusCode);
        var (code, message, reason) = await ConnectWire.UnaryErrorAsync(json);
        Assert.Equal(("resource_exhausted", "resource_limit_exceeded"), (code, reason));
        Assert.StartsWith("resource_limit_exceeded: the ListSandboxes response is ", message, StringComparison.Ordinal);
        Assert.EndsWith(" bytes in json, over the daemon's limit of 64 bytes for one response message; it was not sent", message, StringComparison.Ordinal);
        using var small = await host.Http1.SendAsync(ConnectWire.PostJson(ListSandboxes, """{"clientKey":"nobody"}"""));
        Assert.Equal(HttpStatusCode.OK, small.StatusCode);

        // Connect stream: the error ends the stream where the message would have been.
        using var stream = await host.Http1.SendAsync(ConnectWire.Post(StreamSandboxEvents, "application/connect+json", ConnectWire.Envelope(0, Encoding.UTF8.GetBytes($$"""{"sandboxId":"{{sandbox.Id}}"}"""))));
        var end = Assert.Single(await ConnectWire.ReadAllFramesAsync(stream));
        using (var endJson = JsonDocument.Parse(end.Data))
        {
            var error = ConnectWire.Error(endJson.RootElement.GetProperty("error"));
            Assert.Equal(("resource_exhausted", "resource_limit_exceeded"), (error.Code, error.Reason));
        }

        // gRPC: the same limit, as Grpc.AspNetCore words it.
        using var grpc = DaemonConnection.Open(DaemonEndpoint.Parse("unix://" + host.SocketPath));
        var refused = await Assert.ThrowsAsync<RpcException>(async () => await grpc.Sandboxes.ListSandboxesAsync(new ListSandboxesRequest()));
        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.Empty((await grpc.Sandboxes.ListSandboxesAsync(new ListSandboxesRequest { ClientKey = "nobody" })).Sandboxes);
    }

    private static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(data);
        }

        return output.ToArray();
    }

    private static byte[] Gunzip(byte[] data)
    {
        using var input = new GZipStream(new MemoryStream(data), CompressionMode.Decompress);
        using var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }
}
