using System.Diagnostics;
using System.Net;
using Cleanroom.Api.V1;
using Cleanroom.Client;
using Cleanroom.Daemon.Tests.Fakes;
using Google.Protobuf;

namespace Cleanroom.Daemon.Tests;

/// <summary>Connect unary calls (JSON and binary, HTTP/1.1 and HTTP/2) on the daemon's socket, beside gRPC on the same socket.</summary>
public sealed class ConnectUnaryTests
{
    /// <summary>A well-formed id no sandbox has.</summary>
    private const string Unknown = "01kr7p9ksmfa7rmyypyqw2w8r0";

    private const string ListSandboxes = "/cleanroom.v1.SandboxService/ListSandboxes";
    private const string GetSandbox = "/cleanroom.v1.SandboxService/GetSandbox";

    [Fact]
    public async Task Json_over_http1_lists_the_sandboxes_without_a_protocol_version_header()
    {
        await using var host = await ControlApiHost.StartAsync();
        var sandbox = await host.Harness.CreateAsync();

        using var response = await host.Http1.SendAsync(ConnectWire.PostJson(ListSandboxes, "{}"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var list = JsonParser.Default.Parse<ListSandboxesResponse>(await response.Content.ReadAsStringAsync());
        Assert.Equal(sandbox.Id, Assert.Single(list.Sandboxes).SandboxId);
    }

    [Fact]
    public async Task Binary_over_http2_gets_a_sandbox()
    {
        await using var host = await ControlApiHost.StartAsync();
        var sandbox = await host.Harness.CreateAsync();

        var body = new GetSandboxRequest { SandboxId = sandbox.Id }.ToByteArray();
        using var response = await host.Http2.SendAsync(ConnectWire.Post(GetSandbox, "application/proto", body, ("Connect-Protocol-Version", "1"), ("Connect-Timeout-Ms", "10000")));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Equal("application/proto", response.Content.Headers.ContentType?.MediaType);
        var got = GetSandboxResponse.Parser.ParseFrom(await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(sandbox.Id, got.Sandbox.SandboxId);
        Assert.Equal(SandboxStatus.Ready, got.Sandbox.Status);
    }

    [Fact]
    public async Task A_service_error_maps_to_the_connect_code_its_http_status_and_the_reason_detail()
    {
        await using var host = await ControlApiHost.StartAsync();

        using var json = await host.Http1.SendAsync(ConnectWire.PostJson(GetSandbox, """{"sandboxId":"01kr7p9ksmfa7rmyypyqw2w8r0"}"""));
        using var proto = await host.Http2.SendAsync(ConnectWire.Post(GetSandbox, "application/proto", new GetSandboxRequest { SandboxId = Unknown }.ToByteArray()));

        foreach (var response in new[] { json, proto })
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            var (code, message, reason) = await ConnectWire.UnaryErrorAsync(response);
            Assert.Equal("not_found", code);
            Assert.Equal("sandbox_not_found", reason);
            Assert.Equal("sandbox_not_found: unknown sandbox 01kr7p9ksmfa7rmyypyqw2w8r0", message); // the same text gRPC clients read
        }
    }

    [Fact]
    public async Task Grpc_still_works_on_the_same_socket()
    {
        await using var host = await ControlApiHost.StartAsync();
        var sandbox = await host.Harness.CreateAsync();
        using var connection = DaemonConnection.Open(DaemonEndpoint.Parse("unix://" + host.SocketPath));

        var list = await connection.Sandboxes.ListSandboxesAsync(new ListSandboxesRequest());

        Assert.Equal(sandbox.Id, Assert.Single(list.Sandboxes).SandboxId);
    }

    [Fact]
    public async Task The_readme_curl_example_works()
    {
        await using var host = await ControlApiHost.StartAsync();
        var sandbox = await host.Harness.CreateAsync();

        var curl = new ProcessStartInfo("curl")
        {
            ArgumentList = { "--unix-socket", host.SocketPath, "-sS", "-H", "Content-Type: application/json", "-d", "{}", "-w", "\n%{http_code}", "http://x/cleanroom.v1.SandboxService/ListSandboxes" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(curl)!;
        string output;
        try
        {
            output = await process.StandardOutput.ReadToEndAsync().WaitAsync(Waits.Bound);
            await process.WaitForExitAsync().WaitAsync(Waits.Bound);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }

        Assert.True(process.ExitCode == 0, await process.StandardError.ReadToEndAsync());
        var lines = output.Split('\n');
        Assert.Equal("200", lines[^1]);
        var list = JsonParser.Default.Parse<ListSandboxesResponse>(string.Join('\n', lines[..^1]));
        Assert.Equal(sandbox.Id, Assert.Single(list.Sandboxes).SandboxId);
    }
}
