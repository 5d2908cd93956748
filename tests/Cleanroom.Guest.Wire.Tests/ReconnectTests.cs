using Cleanroom.Guest.Wire.Framing;
using Cleanroom.Guest.Wire.Guest;
using Cleanroom.Guest.Wire.Host;
using Cleanroom.Guest.Wire.Messages;

namespace Cleanroom.Guest.Wire.Tests;

/// <summary>
/// A virtio-serial port has no connection boundary: a host can reconnect before the guest notices it left, and
/// frames written for the old host can reach the new one. Both ends must treat that as a fresh connection.
/// </summary>
public class ReconnectTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_second_hello_ends_the_old_hosts_processes_and_is_answered_first()
    {
        await using var pair = await SocketPair.CreateAsync();
        var server = new AgentServer(pair.Guest, new ScriptedHandler(), WireLimits.Default, "guest");
        var serving = Task.Run(() => server.RunAsync(CancellationToken.None));
        var host = new FrameWriter(pair.Host, 65536);
        var reader = new FrameReader(pair.Host, WireLimits.Default);

        await host.WriteAsync(FrameType.Hello, 0, new HelloMessage(HelloMessage.CurrentVersion, 111, 65536, 65536, "old host").Encode(), CancellationToken.None);
        Assert.Equal(111UL, HelloMessage.Decode((await reader.ReadAsync(CancellationToken.None))!.Payload.Span).Nonce);
        await host.WriteAsync(FrameType.Exec, 1, new ExecRequest { Argv = ["wait"] }.Encode(), CancellationToken.None);
        Assert.Equal(FrameType.Started, (await reader.ReadAsync(CancellationToken.None))!.Type);

        // The "new host" speaks on the same byte stream without any disconnect in between.
        await host.WriteAsync(FrameType.Hello, 0, new HelloMessage(HelloMessage.CurrentVersion, 222, 65536, 65536, "new host").Encode(), CancellationToken.None);
        var answer = (await reader.ReadAsync(CancellationToken.None).AsTask().WaitAsync(Timeout))!;
        Assert.Equal(FrameType.Hello, answer.Type);
        Assert.Equal(222UL, HelloMessage.Decode(answer.Payload.Span).Nonce);

        // Stream ids start over for the new host.
        await host.WriteAsync(FrameType.Exec, 1, new ExecRequest { Argv = ["exit", "3"] }.Encode(), CancellationToken.None);
        Assert.Equal(FrameType.Started, (await reader.ReadAsync(CancellationToken.None))!.Type);
        var exit = (await reader.ReadAsync(CancellationToken.None))!;
        Assert.Equal(FrameType.Exit, exit.Type);
        Assert.Equal(3, ExitMessage.Decode(exit.Payload.Span).ExitCode);

        await host.WriteAsync(FrameType.Shutdown, 0, ReadOnlyMemory<byte>.Empty, CancellationToken.None);
        Assert.Equal(SessionEnd.ShutdownRequested, await serving.WaitAsync(Timeout));
    }

    [Fact]
    public async Task Frames_left_over_from_a_previous_connection_are_skipped_before_the_hello()
    {
        await using var pair = await SocketPair.CreateAsync();
        var guest = new FrameWriter(pair.Guest, 65536);
        await guest.WriteAsync(FrameType.Stdout, 7, new byte[] { 1, 2, 3 }, CancellationToken.None);
        await guest.WriteAsync(FrameType.Exit, 7, new ExitMessage(0, 9, "").Encode(), CancellationToken.None);
        var answer = Task.Run(async () =>
        {
            var reader = new FrameReader(pair.Guest, WireLimits.Default);
            var hostHello = HelloMessage.Decode((await reader.ReadAsync(CancellationToken.None))!.Payload.Span);
            await guest.WriteAsync(FrameType.Hello, 0, new HelloMessage(HelloMessage.CurrentVersion, hostHello.Nonce, 65536, 65536, "guest").Encode(), CancellationToken.None);
        });

        await using var client = await AgentClient.ConnectAsync(pair.Host, WireLimits.Default, Timeout, CancellationToken.None);
        await answer;
        Assert.Equal("guest", client.Guest.Software);
    }
}
