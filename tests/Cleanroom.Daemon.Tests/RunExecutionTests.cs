using System.Text;
using System.Text.Json;
using Cleanroom.Daemon.Hosting;
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

    [Fact]
    public async Task A_client_on_the_socket_that_reads_the_log_gets_the_file_and_its_lengths_instead_of_the_bytes()
    {
        await using var host = await ControlApiHost.StartAsync();
        var sandbox = await host.Harness.CreateAsync();

        var (events, end) = await RunAsync(host, new { sandboxId = sandbox.Id, command = Split, readOutputLog = true });

        Assert.Equal("{}", end);
        Assert.True(events[0].TryGetProperty("created", out _));
        var file = events[1].GetProperty("outputLog");
        Assert.DoesNotContain(events, e => e.TryGetProperty("stdout", out _) || e.TryGetProperty("stderr", out _));
        var lengths = events.Where(e => e.TryGetProperty("outputLogLength", out _)).Select(e => long.Parse(e.GetProperty("outputLogLength").GetString()!, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.NotEmpty(lengths);
        Assert.Equal(lengths.Order(), lengths);
        Assert.Equal(3, events[^1].GetProperty("exit").GetProperty("exitCode").GetInt32());

        // The file the daemon named is the one stat(1) sees there (device major and minor, inode), and its whole records
        // up to the last length are the command's output.
        var path = file.GetProperty("path").GetString()!;
        var stat = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("stat", ["-c", "%Hd %Ld %i", path]) { RedirectStandardOutput = true })!;
        var fields = (await stat.StandardOutput.ReadToEndAsync()).Split(' ', StringSplitOptions.TrimEntries).Select(ulong.Parse).ToArray();
        await stat.WaitForExitAsync();
        Assert.Equal((fields[0] << 32) | fields[1], ulong.Parse(file.GetProperty("device").GetString()!, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(fields[2], ulong.Parse(file.GetProperty("inode").GetString()!, System.Globalization.CultureInfo.InvariantCulture));
        var bytes = File.ReadAllBytes(path).AsSpan(0, (int)lengths[^1]).ToArray();
        Assert.Equal([(1, "out\n"), (2, "err\n")], Records(bytes));
    }

    [Fact]
    public async Task A_client_over_tcp_that_asks_for_the_log_gets_the_output_as_usual_and_CreateExecution_refuses_the_flag()
    {
        await using var host = await ControlApiHost.StartAsync(o => o with { Listeners = [ListenerSpec.Parse("http://127.0.0.1:0")] });
        var sandbox = await host.Harness.CreateAsync();
        using var tcp = new HttpClient { BaseAddress = Assert.Single(host.NetworkAddresses), Timeout = TimeSpan.FromSeconds(30) };

        using var response = await tcp.SendAsync(ConnectWire.Post(Path, "application/connect+json", ConnectWire.Envelope(0, JsonSerializer.SerializeToUtf8Bytes(new { sandboxId = sandbox.Id, command = Split, readOutputLog = true }))));
        var events = (await ConnectWire.ReadAllFramesAsync(response)).Where(f => f.Flags == 0).Select(f => JsonDocument.Parse(f.Data).RootElement).ToList();
        Assert.DoesNotContain(events, e => e.TryGetProperty("outputLog", out _) || e.TryGetProperty("outputLogLength", out _));
        Assert.Equal("out\n", Output(events, "stdout"));
        Assert.Equal("err\n", Output(events, "stderr"));

        using var unary = await host.Http1.SendAsync(ConnectWire.PostJson("/cleanroom.v1.ExecutionService/CreateExecution", JsonSerializer.Serialize(new { sandboxId = sandbox.Id, command = Echo, readOutputLog = true })));
        var (code, message, _) = await ConnectWire.UnaryErrorAsync(unary);
        Assert.Equal("invalid_argument", code);
        Assert.Contains("read_output_log", message, StringComparison.Ordinal);
    }

    private static List<(int Kind, string Text)> Records(byte[] log)
    {
        var records = new List<(int, string)>();
        for (var offset = 0; offset < log.Length;)
        {
            var length = (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(log.AsSpan(offset + 1));
            records.Add((log[offset], Encoding.UTF8.GetString(log, offset + 5, length)));
            offset += 5 + length;
        }

        return records;
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
