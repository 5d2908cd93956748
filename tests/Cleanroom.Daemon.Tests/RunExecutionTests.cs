using System.Text;
using System.Text.Json;
using Cleanroom.Daemon.Tests.Fakes;

namespace Cleanroom.Daemon.Tests;

/// <summary>
/// RunExecution: CreateExecution and StreamExecution in one call (one round trip less for every command a client runs
/// and waits for), over the Connect protocol as any client speaks it.
/// </summary>
public sealed class RunExecutionTests
{
    private const string Path = "/cleanroom.v1.ExecutionService/RunExecution";
    private static readonly string[] Split = ["split", "out", "err", "3"];
    private static readonly string[] Echo = ["echo", "x"];

    [Fact]
    public async Task The_first_event_is_the_created_execution_then_its_output_and_exit()
    {
        await using var host = await ControlApiHost.StartAsync();
        var sandbox = await host.Harness.CreateAsync();

        var (events, end) = await RunAsync(host, new { sandboxId = sandbox.Id, command = Split });

        var created = events[0].GetProperty("created");
        var id = created.GetProperty("executionId").GetString();
        Assert.Equal(sandbox.Id, created.GetProperty("sandboxId").GetString());
        Assert.Equal(Split, created.GetProperty("command").EnumerateArray().Select(a => a.GetString()));
        Assert.All(events, e => Assert.Equal(id, e.GetProperty("executionId").GetString()));
        Assert.Equal("out\n", Output(events, "stdout"));
        Assert.Equal("err\n", Output(events, "stderr"));
        Assert.Equal(3, events[^1].GetProperty("exit").GetProperty("exitCode").GetInt32());
        Assert.Equal("{}", end);

        // The same execution any other call sees, finished.
        var record = host.Harness.Store.GetExecution(id!);
        Assert.NotNull(record);
        Assert.Equal(3, record.ExitCode);
    }

    [Fact]
    public async Task A_refused_start_ends_the_call_with_CreateExecutions_error_and_no_events()
    {
        await using var host = await ControlApiHost.StartAsync();
        var gone = await host.Harness.CreateAsync();
        await host.Harness.Manager.TerminateAsync(gone.Id, "test");

        foreach (var sandboxId in new[] { "not an id", gone.Id })
        {
            var (events, end) = await RunAsync(host, new { sandboxId, command = Echo });
            using var unary = await host.Http1.SendAsync(ConnectWire.PostJson("/cleanroom.v1.ExecutionService/CreateExecution", JsonSerializer.Serialize(new { sandboxId, command = Echo })));

            Assert.Empty(events);
            var (code, message, reason) = ConnectWire.Error(JsonDocument.Parse(end).RootElement.GetProperty("error"));
            Assert.Equal(await ConnectWire.UnaryErrorAsync(unary), (code, message, reason));
            Assert.NotEqual("", reason);
        }
    }

    private static async Task<(List<JsonElement> Events, string End)> RunAsync(ControlApiHost host, object request)
    {
        using var response = await host.Http1.SendAsync(ConnectWire.Post(Path, "application/connect+json", ConnectWire.Envelope(0, JsonSerializer.SerializeToUtf8Bytes(request))));
        var frames = await ConnectWire.ReadAllFramesAsync(response);
        var end = frames.Where(f => (f.Flags & 2) != 0).Select(f => Encoding.UTF8.GetString(f.Data)).Single();
        return ([.. frames.Where(f => f.Flags == 0).Select(f => JsonDocument.Parse(f.Data).RootElement)], end);
    }

    private static string Output(List<JsonElement> events, string stream) =>
        string.Concat(events.Where(e => e.TryGetProperty(stream, out _)).Select(e => Encoding.UTF8.GetString(e.GetProperty(stream).GetBytesFromBase64())));
}
