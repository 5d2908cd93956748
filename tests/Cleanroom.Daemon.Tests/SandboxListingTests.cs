using System.Net;
using Cleanroom.Api.V1;
using Google.Protobuf;

namespace Cleanroom.Daemon.Tests;

/// <summary>
/// ListSandboxes answers from one bounded query: newest first, running ones unless all are asked for, at most the
/// limit (1000 whatever is asked), and it says when the answer is cut.
/// </summary>
public sealed class SandboxListingTests
{
    private const string List = "/cleanroom.v1.SandboxService/ListSandboxes";

    [Fact]
    public async Task Running_sandboxes_newest_first_bounded_by_the_limit_and_flagged_when_cut()
    {
        await using var host = await ControlApiHost.StartAsync();
        var first = await host.Harness.CreateAsync();
        var stopped = await host.Harness.CreateAsync();
        var last = await host.Harness.CreateAsync();
        await host.Harness.Manager.TerminateAsync(stopped.Id, "test");

        var running = await ListAsync(host, "{}");
        Assert.Equal([last.Id, first.Id], running.Sandboxes.Select(s => s.SandboxId));
        Assert.False(running.Truncated);

        var newest = await ListAsync(host, """{"limit":1}""");
        Assert.Equal([last.Id], newest.Sandboxes.Select(s => s.SandboxId));
        Assert.True(newest.Truncated);

        var all = await ListAsync(host, """{"all":true,"limit":2}""");
        Assert.Equal([last.Id, stopped.Id], all.Sandboxes.Select(s => s.SandboxId));
        Assert.Equal(SandboxStatus.Stopped, all.Sandboxes[1].Status);
        Assert.True(all.Truncated);
        Assert.False((await ListAsync(host, """{"all":true,"limit":3}""")).Truncated);

        using var negative = await host.Http1.SendAsync(ConnectWire.PostJson(List, """{"limit":-1}"""));
        Assert.Equal(HttpStatusCode.BadRequest, negative.StatusCode);
        Assert.Equal("invalid_argument", (await ConnectWire.UnaryErrorAsync(negative)).Code);
    }

    private static async Task<ListSandboxesResponse> ListAsync(ControlApiHost host, string json)
    {
        using var response = await host.Http1.SendAsync(ConnectWire.PostJson(List, json));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonParser.Default.Parse<ListSandboxesResponse>(await response.Content.ReadAsStringAsync());
    }
}
