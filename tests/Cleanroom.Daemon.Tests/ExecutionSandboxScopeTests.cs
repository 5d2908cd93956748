using System.Net;
using System.Text.Json;
using Cleanroom.Daemon.Tests.Fakes;
using Cleanroom.Guest.Wire.Messages;

namespace Cleanroom.Daemon.Tests;

/// <summary>
/// The execution calls that act on an execution (cancel, stream, stdin, resize) honour the optional sandbox id the
/// way GetExecution does: an execution of another sandbox is not found and nothing is done to it. And an id a client
/// sends comes back escaped in the error, never as raw control characters.
/// </summary>
public sealed class ExecutionSandboxScopeTests
{
    private const string Service = "/cleanroom.v1.ExecutionService/";

    [Fact]
    public async Task Calls_naming_another_sandbox_are_not_found_and_leave_the_execution_running()
    {
        await using var host = await ControlApiHost.StartAsync();
        var owner = await host.Harness.CreateAsync();
        var other = await host.Harness.CreateAsync();
        var runner = await host.Harness.Manager.StartExecutionAsync(owner.Id, new ExecRequest { Argv = ["wait"] }, attachStdin: true, CancellationToken.None);
        await host.Harness.Backend.Programs.Started.ReadAsync().AsTask().WaitAsync(Waits.Bound);
        var id = runner.Record.Id;

        foreach (var (method, extra) in new[]
        {
            ("CancelExecution", ""","signal":9"""),
            ("WriteExecutionStdin", ""","data":"aGk=" """),
            ("CloseExecutionStdin", ""),
            ("ResizeExecution", ""","cols":80,"rows":24"""),
        })
        {
            using var response = await host.Http1.SendAsync(ConnectWire.PostJson(Service + method, $$"""{"sandboxId":"{{other.Id}}","executionId":"{{id}}"{{extra}}}"""));
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            var (code, message, reason) = await ConnectWire.UnaryErrorAsync(response);
            Assert.Equal(("not_found", "execution_not_found"), (code, reason));
            Assert.Contains(other.Id, message, StringComparison.Ordinal);
        }

        using (var stream = await host.Http1.SendAsync(ConnectWire.Post(
            Service + "StreamExecution", "application/connect+json", ConnectWire.Envelope(0, JsonSerializer.SerializeToUtf8Bytes(new { sandboxId = other.Id, executionId = id })))))
        {
            var end = Assert.Single(await ConnectWire.ReadAllFramesAsync(stream));
            Assert.Contains("execution_not_found", System.Text.Encoding.UTF8.GetString(end.Data), StringComparison.Ordinal);
        }

        // Nothing was done to it: still running, and the call naming its own sandbox is the one that stops it.
        Assert.False(runner.Finished.IsCompleted);
        using var own = await host.Http1.SendAsync(ConnectWire.PostJson(Service + "CancelExecution", $$"""{"sandboxId":"{{owner.Id}}","executionId":"{{id}}","signal":9}"""));
        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        Assert.True(JsonDocument.Parse(await own.Content.ReadAsStringAsync()).RootElement.GetProperty("accepted").GetBoolean());
        await runner.Finished.WaitAsync(Waits.Bound);
    }

    [Fact]
    public async Task An_id_with_control_characters_comes_back_escaped()
    {
        await using var host = await ControlApiHost.StartAsync();

        using var response = await host.Http1.SendAsync(ConnectWire.PostJson(
            Service + "GetExecution", """{"executionId":"x\nlevel=error forged \u001b[2J"}"""));

        var (code, message, _) = await ConnectWire.UnaryErrorAsync(response);
        Assert.Equal("not_found", code);
        Assert.DoesNotContain('\n', message);
        Assert.DoesNotContain('\u001b', message);
        Assert.Contains("\\n", message, StringComparison.Ordinal);
    }
}
