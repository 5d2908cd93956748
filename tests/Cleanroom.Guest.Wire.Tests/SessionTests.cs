using Cleanroom.Guest.Wire.Guest;
using Cleanroom.Guest.Wire.Host;
using Cleanroom.Guest.Wire.Messages;

namespace Cleanroom.Guest.Wire.Tests;

public sealed class SessionTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private SocketPair _pair = null!;
    private AgentClient _client = null!;
    private Task<SessionEnd> _server = null!;

    public async Task InitializeAsync()
    {
        _pair = await SocketPair.CreateAsync();

        // A small window forces many window updates, so flow control is on the path of every test.
        var limits = WireLimits.Default with { InitialWindow = 8192, MaxFramePayload = 4096 };
        _server = new AgentServer(_pair.Guest, new ScriptedHandler(), limits, "test-guest").RunAsync(CancellationToken.None);
        _client = await AgentClient.ConnectAsync(_pair.Host, limits, Timeout, CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _client.DisposeAsync();
        await _server.WaitAsync(Timeout);
        await _pair.DisposeAsync();
    }

    [Fact]
    public void Handshake_exchanges_software_and_limits()
    {
        Assert.Equal("test-guest", _client.Guest.Software);
        Assert.Equal(8192, _client.Guest.InitialWindow);
    }

    [Fact]
    public async Task Output_arrives_complete_and_separated_under_flow_control()
    {
        var process = await _client.StartAsync(new ExecRequest { Argv = ["emit", "1000000"] }, CancellationToken.None);
        long stdout = 0, stderr = 0;
        var intact = true;
        while (await process.ReadOutputAsync(CancellationToken.None) is { } chunk)
        {
            ref var offset = ref chunk.Stream == OutputStreamKind.Stdout ? ref stdout : ref stderr;
            foreach (var b in chunk.Data.Span)
            {
                intact &= b == ScriptedHandler.PatternByte(offset++);
            }
        }

        var exit = await process.Exited.WaitAsync(Timeout);
        Assert.True(intact);
        Assert.Equal((1_000_000L, 500_000L, 0), (stdout, stderr, exit.ExitCode));
        Assert.Equal(4242, await process.Started);
    }

    [Fact]
    public async Task A_stdin_write_failed_by_the_process_exit_finds_the_exit_already_reported()
    {
        // "exit" never reads stdin: the write waits for window until the exit fails it. A writer that then looks at
        // Exited must find it complete, or it cannot tell a tool that stopped reading from a broken connection.
        var process = await _client.StartAsync(new ExecRequest { Argv = ["exit", "3"] }, CancellationToken.None);
        var exitedWhenTheWriteFailed = new TaskCompletionSource<bool>();
        var write = process.WriteStdinAsync(new byte[1 << 20], CancellationToken.None);
        _ = write.ContinueWith(
            t => exitedWhenTheWriteFailed.TrySetResult(process.Exited.IsCompleted),
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

        await Assert.ThrowsAsync<WireProtocolException>(() => write.WaitAsync(Timeout));
        Assert.True(await exitedWhenTheWriteFailed.Task.WaitAsync(Timeout), "the write failed before the exit was reported");
        Assert.Equal(3, (await process.Exited.WaitAsync(Timeout)).ExitCode);
    }

    [Fact]
    public async Task Stdin_round_trips_through_the_guest()
    {
        var process = await _client.StartAsync(new ExecRequest { Argv = ["cat"] }, CancellationToken.None);
        var input = Enumerable.Range(0, 100_000).Select(i => (byte)i).ToArray();
        var send = Task.Run(async () =>
        {
            await process.WriteStdinAsync(input, CancellationToken.None);
            await process.CloseStdinAsync(CancellationToken.None);
        });
        var received = new MemoryStream();
        while (await process.ReadOutputAsync(CancellationToken.None) is { } chunk)
        {
            received.Write(chunk.Data.Span);
        }

        await send.WaitAsync(Timeout);
        Assert.Equal(input, received.ToArray());
    }

    [Fact]
    public async Task Concurrent_processes_keep_their_own_streams()
    {
        var processes = await Task.WhenAll(Enumerable.Range(1, 8).Select(i => _client.StartAsync(new ExecRequest { Argv = ["exit", i.ToString(System.Globalization.CultureInfo.InvariantCulture)] }, CancellationToken.None)));

        var exits = await Task.WhenAll(processes.Select(p => p.Exited)).WaitAsync(Timeout);

        Assert.Equal(Enumerable.Range(1, 8), exits.Select(e => e.ExitCode));
    }

    [Fact]
    public async Task Signal_reaches_the_process()
    {
        var process = await _client.StartAsync(new ExecRequest { Argv = ["wait"] }, CancellationToken.None);
        await process.Started.WaitAsync(Timeout);

        await process.SignalAsync(2, CancellationToken.None);

        Assert.Equal(130, (await process.Exited.WaitAsync(Timeout)).ShellExitCode);
    }

    [Fact]
    public async Task Ping_measures_a_round_trip()
    {
        var elapsed = await _client.PingAsync(CancellationToken.None).WaitAsync(Timeout);

        Assert.True(elapsed > TimeSpan.Zero);
    }

    [Fact]
    public async Task Shutdown_ends_the_guest_session()
    {
        await _client.ShutdownAsync(CancellationToken.None);

        Assert.Equal(SessionEnd.ShutdownRequested, await _server.WaitAsync(Timeout));
    }

    [Fact]
    public async Task Unknown_command_reports_127_with_the_error()
    {
        var process = await _client.StartAsync(new ExecRequest { Argv = ["nope"] }, CancellationToken.None);

        var exit = await process.Exited.WaitAsync(Timeout);

        Assert.Equal(127, exit.ExitCode);
        Assert.Contains("command not found", exit.Error, StringComparison.Ordinal);
    }
}
