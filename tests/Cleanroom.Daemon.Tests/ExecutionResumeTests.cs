using System.Net;
using System.Text;
using System.Text.Json;
using Cleanroom.Api.V1;
using Cleanroom.Daemon.Executions;
using Cleanroom.Daemon.Tests.Fakes;
using Cleanroom.Guest.Wire;
using Cleanroom.Guest.Wire.Messages;

namespace Cleanroom.Daemon.Tests;

/// <summary>
/// The daemon's half of a command outliving a restart: the log a dead daemon left is continued where its last whole
/// record ends, and a client that reconnects is streamed the output after the bytes it has.
/// </summary>
public sealed class ExecutionResumeTests
{
    private const string Service = "/cleanroom.v1.ExecutionService/";

    [Fact]
    public async Task A_log_continued_after_a_crash_drops_the_half_written_record_and_counts_only_whole_ones()
    {
        var dir = Directory.CreateTempSubdirectory("cr-log-").FullName;
        try
        {
            var path = Path.Combine(dir, "e.log");
            using (var first = OutputLog.Create(path))
            {
                await first.AppendAsync(OutputStreamKind.Stdout, "one\n"u8.ToArray(), CancellationToken.None);
                await first.AppendAsync(OutputStreamKind.Stderr, "two\n"u8.ToArray(), CancellationToken.None);
            }

            // The dead daemon was writing a 100-byte record when it was killed: its header and 3 bytes made it.
            await using (var torn = new FileStream(path, FileMode.Append))
            {
                torn.Write([1, 0, 0, 0, 100, (byte)'x', (byte)'y', (byte)'z']);
            }

            using var continued = OutputLog.Continue(path);
            Assert.Equal(8, continued.OutputBytes);
            await continued.AppendAsync(OutputStreamKind.Stdout, "three\n"u8.ToArray(), CancellationToken.None);
            continued.Complete();

            var contents = await LogContents.ReadAsync(continued);
            Assert.Equal(("one\nthree\n", "two\n"), (contents.StdoutText, contents.StderrText));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task A_stream_with_an_output_offset_starts_after_those_bytes_and_a_negative_one_is_refused()
    {
        await using var host = await ControlApiHost.StartAsync();
        var sandbox = await host.Harness.CreateAsync();
        var runner = await host.Harness.Manager.StartExecutionAsync(sandbox.Id, new ExecRequest { Argv = ["echo", "hello", "world"] }, attachStdin: false, CancellationToken.None);
        await runner.Finished.WaitAsync(Waits.Bound);

        foreach (var (offset, expected) in new[] { (0L, "hello world\n"), (6L, "world\n"), (1000L, "") })
        {
            using var response = await host.Http1.SendAsync(ConnectWire.Post(
                Service + "StreamExecution",
                "application/connect+json",
                ConnectWire.Envelope(0, JsonSerializer.SerializeToUtf8Bytes(new { sandboxId = sandbox.Id, executionId = runner.Record.Id, outputOffset = offset }))));
            var frames = await ConnectWire.ReadAllFramesAsync(response);
            var stdout = new StringBuilder();
            var exits = 0;
            foreach (var (_, data) in frames.Take(frames.Count - 1))
            {
                var evt = ExecutionStreamEvent.Parser.WithDiscardUnknownFields(true).ParseJson(Encoding.UTF8.GetString(data));
                stdout.Append(evt.Stdout.ToStringUtf8());
                exits += evt.PayloadCase == ExecutionStreamEvent.PayloadOneofCase.Exit ? 1 : 0;
            }

            Assert.Equal((expected, 1), (stdout.ToString(), exits));
        }

        using var negative = await host.Http1.SendAsync(ConnectWire.Post(
            Service + "StreamExecution",
            "application/connect+json",
            ConnectWire.Envelope(0, JsonSerializer.SerializeToUtf8Bytes(new { sandboxId = sandbox.Id, executionId = runner.Record.Id, outputOffset = -1 }))));
        Assert.Equal(HttpStatusCode.OK, negative.StatusCode);
        var end = Assert.Single(await ConnectWire.ReadAllFramesAsync(negative));
        Assert.Contains("output_offset must not be negative", Encoding.UTF8.GetString(end.Data), StringComparison.Ordinal);
    }
}
