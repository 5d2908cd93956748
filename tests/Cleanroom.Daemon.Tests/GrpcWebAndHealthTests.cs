using System.Net;
using System.Text;
using Cleanroom.Api.V1;
using Google.Protobuf;

namespace Cleanroom.Daemon.Tests;

/// <summary>gRPC-Web over HTTP/1.1 and the health check, on the daemon's socket.</summary>
public sealed class GrpcWebAndHealthTests
{
    /// <summary>A well-formed id no sandbox has.</summary>
    private const string Unknown = "01kr7p9ksmfa7rmyypyqw2w8r0";

    [Fact]
    public async Task Grpc_web_unary_over_http1_answers_with_a_message_and_trailers()
    {
        await using var host = await ControlApiHost.StartAsync();
        var sandbox = await host.Harness.CreateAsync();

        var frame = ConnectWire.Envelope(0, new ListSandboxesRequest().ToByteArray());
        using var response = await host.Http1.SendAsync(ConnectWire.Post("/cleanroom.v1.SandboxService/ListSandboxes", "application/grpc-web+proto", frame, ("X-Grpc-Web", "1")));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("application/grpc-web", response.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        var frames = await ConnectWire.ReadAllFramesAsync(response);
        Assert.Equal(2, frames.Count);
        Assert.Equal(sandbox.Id, Assert.Single(ListSandboxesResponse.Parser.ParseFrom(frames[0].Data).Sandboxes).SandboxId);
        Assert.Equal(0x80, frames[1].Flags);
        Assert.Matches(@"(?m)^grpc-status: ?0\r?$", Encoding.ASCII.GetString(frames[1].Data));
    }

    [Fact]
    public async Task Grpc_web_errors_carry_the_status_and_the_reason()
    {
        await using var host = await ControlApiHost.StartAsync();

        var frame = ConnectWire.Envelope(0, new GetSandboxRequest { SandboxId = Unknown }.ToByteArray());
        using var response = await host.Http1.SendAsync(ConnectWire.Post("/cleanroom.v1.SandboxService/GetSandbox", "application/grpc-web+proto", frame));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = Encoding.ASCII.GetString(await response.Content.ReadAsByteArrayAsync());
        var headers = string.Join('\n', response.Headers.Concat(response.Content.Headers).Select(h => $"{h.Key}:{string.Join(',', h.Value)}"));
        var all = headers + "\n" + body; // a trailers-only answer puts the status in the headers
        Assert.Matches(@"grpc-status: ?5", all);
        Assert.Contains("sandbox_not_found", all, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Healthz_answers_over_http1_and_http2()
    {
        await using var host = await ControlApiHost.StartAsync();

        foreach (var client in new[] { host.Http1, host.Http2 })
        {
            using var response = await client.GetAsync("/healthz");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("ok\n", await response.Content.ReadAsStringAsync());
        }
    }
}
