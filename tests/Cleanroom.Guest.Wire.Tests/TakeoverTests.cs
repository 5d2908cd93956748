using Cleanroom.Guest.Wire.Guest;
using Cleanroom.Guest.Wire.Host;
using Cleanroom.Guest.Wire.Messages;

namespace Cleanroom.Guest.Wire.Tests;

/// <summary>
/// A daemon that dies or restarts leaves its commands running in the guest; the next daemon takes them over. Each
/// test runs the guest's real server on a durable table across two connections, the way the agent's loop does.
/// </summary>
public sealed class TakeoverTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    // A small window and frame limit: a takeover then happens with output in flight and kept.
    private static readonly WireLimits Limits = WireLimits.Default with { InitialWindow = 8192, MaxFramePayload = 4096 };

    private readonly SessionTable _table = new(durable: true);

    [Theory]
    [InlineData("emit", 4096, 8192, 600_000, 20)]
    [InlineData("emit-handed-over", 4096, 8192, 600_000, 20)]
    // Frames of 50,000 bytes: written after their header, not copied behind it, in the stream and in the replay.
    [InlineData("emit-handed-over", 64 * 1024, 256 * 1024, 3_000_000, 20)]
    // A window larger than all the output: the process writes every chunk before any is acknowledged and keeps
    // renting arrays meanwhile, so an array returned to the pool before its bytes were acknowledged is refilled
    // with later output and replayed wrong. With frames smaller than a chunk, an array is sent as several pieces and
    // may go back only with the last.
    [InlineData("emit-handed-over", 64 * 1024, 1024 * 1024, 400_000, 1)]
    [InlineData("emit-handed-over", 4096, 1024 * 1024, 400_000, 1)]
    public async Task The_next_host_gets_every_output_byte_exactly_once_after_the_first_host_died_mid_stream(string emit, int maxFrame, int window, long stdout, int storedChunks)
    {
        var limits = Limits with { MaxFramePayload = maxFrame, InitialWindow = window };
        uint streamId;
        long stored = 0;
        await using (var first = await ConnectAsync(new ScriptedHandler(), limits: limits))
        {
            var process = await first.Client.StartAsync(new ExecRequest { Argv = [emit, stdout.ToString(System.Globalization.CultureInfo.InvariantCulture)] }, CancellationToken.None, keepUntilReleased: true);
            streamId = process.StreamId;

            // "Store" a few chunks, then die holding one more that was read and never stored.
            for (var i = 0; i < storedChunks; i++)
            {
                stored += (await process.ReadOutputAsync(CancellationToken.None))!.Value.Data.Length;
            }

            await process.ReadOutputAsync(CancellationToken.None);
        }

        await using var second = await ConnectAsync(new ScriptedHandler(), [new ResumeEntry(streamId, stored)], limits);
        var resumed = second.Client.TakenOver[streamId];
        Assert.Equal(4242, await resumed.Started.WaitAsync(Timeout));
        var position = stored;
        var intact = true;
        while (await resumed.ReadOutputAsync(CancellationToken.None).AsTask().WaitAsync(Timeout) is { } chunk)
        {
            foreach (var b in chunk.Data.Span)
            {
                var offset = position < stdout ? position : position - stdout;
                intact &= b == ScriptedHandler.PatternByte(offset);
                position++;
            }
        }

        Assert.True(intact, "the output after the takeover does not continue where the stored output ended");
        Assert.Equal(stdout + (stdout / 2), position);
        Assert.Equal(0, (await resumed.Exited.WaitAsync(Timeout)).ExitCode);

        // Released: the guest forgets the stream (frames are handled in order, so the ping's answer comes after).
        await resumed.ReleaseAsync(CancellationToken.None);
        await second.Client.PingAsync(CancellationToken.None).WaitAsync(Timeout);
        Assert.Equal(0, _table.Count);
    }

    [Fact]
    public async Task An_exit_while_no_host_was_connected_is_kept_for_the_next_host()
    {
        var handler = new GatedHandler();
        var streamId = await StartAndLeaveAsync(handler);

        // The process writes and exits while no host is connected: its output waits, and so does its exit.
        handler.Open.TrySetResult();
        await using var second = await ConnectAsync(handler, [new ResumeEntry(streamId, 0)]);
        var resumed = second.Client.TakenOver[streamId];
        var output = new List<byte>();
        while (await resumed.ReadOutputAsync(CancellationToken.None).AsTask().WaitAsync(Timeout) is { } chunk)
        {
            output.AddRange(chunk.Data.ToArray());
        }

        Assert.Equal("before\nafter\n", System.Text.Encoding.ASCII.GetString([.. output]));
        Assert.Equal(7, (await resumed.Exited.WaitAsync(Timeout)).ExitCode);
    }

    [Fact]
    public async Task A_process_the_next_host_does_not_take_over_is_ended()
    {
        var handler = new GatedHandler();
        await StartAndLeaveAsync(handler);

        Assert.Equal(1, _table.Count);
        await using var second = await ConnectAsync(handler);
        await second.Client.PingAsync(CancellationToken.None).WaitAsync(Timeout);
        await handler.Cancelled.Task.WaitAsync(Timeout);
        Assert.Equal(0, _table.Count);

        // Its stream id is free again: the new host starts numbering from 1.
        var next = await second.Client.StartAsync(new ExecRequest { Argv = ["exit", "0"] }, CancellationToken.None);
        Assert.Equal(1u, next.StreamId);
    }

    [Fact]
    public async Task A_host_claiming_output_the_guest_never_sent_is_refused_the_stream_and_the_process_ends()
    {
        var handler = new GatedHandler();
        var streamId = await StartAndLeaveAsync(handler);

        await using var second = await ConnectAsync(handler, [new ResumeEntry(streamId, 1_000_000), new ResumeEntry(streamId + 5, 0)]);
        Assert.Empty(second.Client.TakenOver);
        Assert.Contains("holds 1000000 output bytes", second.Client.NotTakenOver[streamId], StringComparison.Ordinal);
        Assert.Contains("no such process", second.Client.NotTakenOver[streamId + 5], StringComparison.Ordinal);
        await handler.Cancelled.Task.WaitAsync(Timeout);
        Assert.Equal(0, _table.Count);
    }

    [Fact]
    public async Task A_released_exit_is_forgotten_and_an_unreleased_one_is_not()
    {
        await using var host = await ConnectAsync(new ScriptedHandler());
        var kept = await host.Client.StartAsync(new ExecRequest { Argv = ["exit", "3"] }, CancellationToken.None, keepUntilReleased: true);
        var auto = await host.Client.StartAsync(new ExecRequest { Argv = ["exit", "4"] }, CancellationToken.None);
        Assert.Equal(3, (await kept.Exited.WaitAsync(Timeout)).ExitCode);
        Assert.Equal(4, (await auto.Exited.WaitAsync(Timeout)).ExitCode);
        await host.Client.PingAsync(CancellationToken.None).WaitAsync(Timeout);
        Assert.Equal(1, _table.Count);

        await kept.ReleaseAsync(CancellationToken.None);
        await host.Client.PingAsync(CancellationToken.None).WaitAsync(Timeout);
        Assert.Equal(0, _table.Count);
    }

    /// <summary>A first host starts a "gated" process, sees it start, and dies; returns the process's stream.</summary>
    private async Task<uint> StartAndLeaveAsync(GatedHandler handler)
    {
        await using var first = await ConnectAsync(handler);
        var process = await first.Client.StartAsync(new ExecRequest { Argv = ["gated"] }, CancellationToken.None, keepUntilReleased: true);
        await process.Started.WaitAsync(Timeout);
        return process.StreamId;
    }

    private async Task<Connection> ConnectAsync(IExecHandler handler, IReadOnlyList<ResumeEntry>? takeOver = null, WireLimits? limits = null)
    {
        var pair = await SocketPair.CreateAsync();
        var serving = new AgentServer(pair.Guest, handler, limits ?? Limits, "guest") { Sessions = _table }.RunAsync(CancellationToken.None);
        var client = await AgentClient.ConnectAsync(pair.Host, limits ?? Limits, Timeout, CancellationToken.None, takeOver);
        return new Connection(pair, client, serving);
    }

    private sealed record Connection(SocketPair Pair, AgentClient Client, Task<SessionEnd> Serving) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            // Like a daemon that dies: the connection just ends, with no goodbye.
            await Client.DisposeAsync();
            await Serving.WaitAsync(Timeout);
            await Pair.DisposeAsync();
        }
    }

    /// <summary>"gated": writes a line, waits for <see cref="Open"/>, writes another and exits 7.</summary>
    private sealed class GatedHandler : IExecHandler
    {
        public TaskCompletionSource Open { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Cancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task<ExitMessage> RunAsync(ExecRequest request, ExecSession session, CancellationToken cancellationToken)
        {
            try
            {
                await session.ReportStartedAsync(99, cancellationToken);
                await session.WriteOutputAsync(OutputStreamKind.Stdout, "before\n"u8.ToArray(), cancellationToken);
                await Open.Task.WaitAsync(cancellationToken);
                await session.WriteOutputAsync(OutputStreamKind.Stdout, "after\n"u8.ToArray(), cancellationToken);
                return new ExitMessage(7, 0, "");
            }
            catch (OperationCanceledException)
            {
                Cancelled.TrySetResult();
                throw;
            }
        }
    }
}
