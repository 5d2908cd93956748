using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Cleanroom.Api.V1;
using Google.Protobuf;

namespace Cleanroom.Daemon.Tests;

/// <summary>Connect server streams: enveloped messages, the end-of-stream frame, errors in it, deadlines and disconnects.</summary>
public sealed partial class ConnectStreamTests
{
    /// <summary>A well-formed id no sandbox has.</summary>
    private const string Unknown = "01kr7p9ksmfa7rmyypyqw2w8r0";

    private const string StreamEvents = "/cleanroom.v1.SandboxService/StreamSandboxEvents";

    [Fact]
    public async Task Json_stream_sends_the_history_then_an_empty_end_of_stream()
    {
        await using var host = await ControlApiHost.StartAsync();
        var sandbox = await host.Harness.CreateAsync();

        var request = ConnectWire.Envelope(0, Encoding.UTF8.GetBytes($$"""{"sandboxId":"{{sandbox.Id}}"}"""));
        using var response = await host.Http1.SendAsync(ConnectWire.Post(StreamEvents, "application/connect+json", request, ("Connect-Protocol-Version", "1")));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/connect+json", response.Content.Headers.ContentType?.MediaType);
        var frames = await ConnectWire.ReadAllFramesAsync(response);
        Assert.True(frames.Count >= 2, $"{frames.Count} frames");
        var messages = frames[..^1].Select(f => Encoding.UTF8.GetString(f.Data)).ToList();
        Assert.All(frames[..^1], f => Assert.Equal(0, f.Flags));
        Assert.All(messages, m => Assert.Matches(Int64AsString(), m)); // int64 travels as a JSON string
        var events = messages.Select(JsonParser.Default.Parse<SandboxEvent>).ToList();
        Assert.All(events, e => Assert.Equal(sandbox.Id, e.SandboxId));
        Assert.Contains(events, e => e.Status == SandboxStatus.Ready);
        Assert.Equal(ConnectEndStream, frames[^1].Flags);
        Assert.Equal("{}", Encoding.UTF8.GetString(frames[^1].Data));
    }

    [Fact]
    public async Task Binary_stream_over_http2_and_an_error_in_the_end_of_stream()
    {
        await using var host = await ControlApiHost.StartAsync();
        var sandbox = await host.Harness.CreateAsync();

        using var ok = await host.Http2.SendAsync(ConnectWire.Post(StreamEvents, "application/connect+proto", ConnectWire.Envelope(0, new StreamSandboxEventsRequest { SandboxId = sandbox.Id }.ToByteArray())));
        var frames = await ConnectWire.ReadAllFramesAsync(ok);
        Assert.Contains(frames[..^1], f => SandboxEvent.Parser.ParseFrom(f.Data).Status == SandboxStatus.Ready);
        Assert.Equal("{}", Encoding.UTF8.GetString(frames[^1].Data));

        using var missing = await host.Http2.SendAsync(ConnectWire.Post(StreamEvents, "application/connect+proto", ConnectWire.Envelope(0, new StreamSandboxEventsRequest { SandboxId = Unknown }.ToByteArray())));
        Assert.Equal(HttpStatusCode.OK, missing.StatusCode); // stream errors travel in the stream
        var end = Assert.Single(await ConnectWire.ReadAllFramesAsync(missing));
        Assert.Equal(ConnectEndStream, end.Flags);
        var (code, _, reason) = EndStreamError(end.Data);
        Assert.Equal(("not_found", "sandbox_not_found"), (code, reason));
    }

    [Fact]
    public async Task A_client_that_disconnects_mid_stream_cancels_the_call()
    {
        await using var host = await ControlApiHost.StartAsync();
        var sandbox = await host.Harness.CreateAsync();

        var request = ConnectWire.Post(StreamEvents, "application/connect+json", ConnectWire.Envelope(0, Encoding.UTF8.GetBytes($$"""{"sandboxId":"{{sandbox.Id}}","follow":true}""")));
        using (var response = await host.Http1.SendAsync(request, HttpCompletionOption.ResponseHeadersRead))
        {
            await using var body = await response.Content.ReadAsStreamAsync();
            var first = await ConnectWire.ReadFrameAsync(body);
            Assert.Equal(0, first!.Value.Flags); // the call is following the live sandbox now
        }

        var ended = await host.Calls.NextEndedAsync();
        Assert.Equal(StreamEvents, ended.Method);
        Assert.True(ended.Cancelled, "the service's token was not cancelled when the client went away");
    }

    [Fact]
    public async Task Connect_timeout_ends_a_following_stream_with_deadline_exceeded()
    {
        await using var host = await ControlApiHost.StartAsync();
        var sandbox = await host.Harness.CreateAsync();

        var request = ConnectWire.Post(StreamEvents, "application/connect+json", ConnectWire.Envelope(0, Encoding.UTF8.GetBytes($$"""{"sandboxId":"{{sandbox.Id}}","follow":true}""")), ("Connect-Timeout-Ms", "300"));
        using var response = await host.Http1.SendAsync(request);
        var frames = await ConnectWire.ReadAllFramesAsync(response);

        Assert.Equal(ConnectEndStream, frames[^1].Flags);
        Assert.Equal("deadline_exceeded", EndStreamError(frames[^1].Data).Code);
        Assert.True((await host.Calls.NextEndedAsync()).Cancelled);
    }

    private const byte ConnectEndStream = 0x02;

    private static (string Code, string Message, string Reason) EndStreamError(byte[] endStream)
    {
        using var json = JsonDocument.Parse(endStream);
        return ConnectWire.Error(json.RootElement.GetProperty("error"));
    }

    [GeneratedRegex("\"sequence\":\\s*\"\\d+\"")]
    private static partial Regex Int64AsString();
}
