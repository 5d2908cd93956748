using Cleanroom.Guest.Wire.Framing;
using Cleanroom.Guest.Wire.Host;
using Cleanroom.Guest.Wire.Messages;

namespace Cleanroom.Guest.Wire.Tests;

/// <summary>The host must survive anything a guest sends: only protocol errors, bounded memory, no hangs.</summary>
public class HostileGuestTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private static readonly WireLimits Limits = WireLimits.Default with { FrameBodyTimeout = TimeSpan.FromMilliseconds(300), InitialWindow = 4096 };

    [Fact]
    public async Task Garbage_instead_of_hello_fails_the_handshake()
    {
        await using var pair = await SocketPair.CreateAsync();
        await pair.Guest.WriteAsync("this is a login prompt, not an agent\n"u8.ToArray());

        await Assert.ThrowsAsync<WireProtocolException>(() => AgentClient.ConnectAsync(pair.Host, Limits, Timeout, CancellationToken.None));
    }

    [Fact]
    public async Task Hello_with_the_wrong_nonce_is_rejected()
    {
        await using var pair = await SocketPair.CreateAsync();
        var guest = new FrameWriter(pair.Guest, 65536);
        await guest.WriteAsync(FrameType.Hello, 0, new HelloMessage(HelloMessage.CurrentVersion, 12345, 65536, 65536, "liar").Encode(), CancellationToken.None);

        var error = await Assert.ThrowsAsync<WireProtocolException>(() => AgentClient.ConnectAsync(pair.Host, Limits, Timeout, CancellationToken.None));
        Assert.Contains("nonce", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Silent_guest_times_out_with_a_clear_error()
    {
        await using var pair = await SocketPair.CreateAsync();

        var error = await Assert.ThrowsAsync<WireProtocolException>(() => AgentClient.ConnectAsync(pair.Host, Limits, TimeSpan.FromMilliseconds(200), CancellationToken.None));
        Assert.Contains("did not answer", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Flooding_beyond_the_window_fails_the_connection_and_its_processes()
    {
        await using var pair = await SocketPair.CreateAsync();
        var (client, guest) = await ConnectAsync(pair);
        var process = await client.StartAsync(new ExecRequest { Argv = ["x"] }, CancellationToken.None);

        // The guest ignores flow control and sends 8 KiB into a 4 KiB window.
        await guest.WriteAsync(FrameType.Stdout, process.StreamId, new byte[3000], CancellationToken.None);
        await guest.WriteAsync(FrameType.Stdout, process.StreamId, new byte[3000], CancellationToken.None);

        var error = await Assert.ThrowsAsync<WireProtocolException>(() => process.Exited.WaitAsync(Timeout));
        Assert.Contains("flow control", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<WireProtocolException>(() => client.Completion.WaitAsync(Timeout));
        await client.DisposeAsync();
    }

    [Fact]
    public async Task A_flood_of_empty_data_frames_fails_the_connection_without_growing_the_host()
    {
        await using var pair = await SocketPair.CreateAsync();
        var (client, _) = await ConnectAsync(pair);
        var process = await client.StartAsync(new ExecRequest { Argv = ["x"] }, CancellationToken.None);
        var heapBefore = GC.GetTotalMemory(forceFullCollection: true);

        // Ten million header-only stdout frames: each would cost no window credit. Written in 1 MiB batches until
        // the host stops reading (its end is closed once it fails).
        var batch = new byte[(1 << 20) / FrameHeader.Size * FrameHeader.Size];
        for (var offset = 0; offset < batch.Length; offset += FrameHeader.Size)
        {
            new FrameHeader(0, FrameType.Stdout, process.StreamId).Write(batch.AsSpan(offset));
        }

        var framesPerBatch = batch.Length / FrameHeader.Size;
        var flood = Task.Run(async () =>
        {
            for (long sent = 0; sent < 10_000_000; sent += framesPerBatch)
            {
                await pair.Guest.WriteAsync(batch);
            }
        });

        var error = await Assert.ThrowsAsync<WireProtocolException>(() => process.Exited.WaitAsync(Timeout));
        Assert.Contains("empty data frame", error.Message, StringComparison.Ordinal);
        await client.DisposeAsync();
        await Record.ExceptionAsync(() => flood.WaitAsync(Timeout)); // the write fails once the host end is closed
        Assert.True(flood.IsCompleted, "the flooding guest was not stopped");
        var growth = GC.GetTotalMemory(forceFullCollection: true) - heapBefore;
        Assert.True(growth < 4 << 20, $"the host heap grew by {growth} bytes");
    }

    [Fact]
    public async Task Output_for_a_stream_that_does_not_exist_is_a_protocol_error()
    {
        await using var pair = await SocketPair.CreateAsync();
        var (client, guest) = await ConnectAsync(pair);

        await guest.WriteAsync(FrameType.Stdout, 99, new byte[10], CancellationToken.None);

        await Assert.ThrowsAsync<WireProtocolException>(() => client.Completion.WaitAsync(Timeout));
        await client.DisposeAsync();
    }

    [Fact]
    public async Task A_configured_answer_nobody_asked_for_is_a_protocol_error()
    {
        await using var pair = await SocketPair.CreateAsync();
        var (client, guest) = await ConnectAsync(pair);

        await guest.WriteAsync(FrameType.Configured, 0, ConfiguredMessage.Success.Encode(), CancellationToken.None);

        var error = await Assert.ThrowsAsync<WireProtocolException>(() => client.Completion.WaitAsync(Timeout));
        Assert.Contains("no configure request", error.Message, StringComparison.Ordinal);
        await client.DisposeAsync();
    }

    [Fact]
    public async Task A_guest_that_hangs_up_instead_of_answering_a_configure_fails_it_with_a_protocol_error()
    {
        await using var pair = await SocketPair.CreateAsync();
        var (client, _) = await ConnectAsync(pair);
        var reader = new FrameReader(pair.Guest, WireLimits.Default);

        var configure = client.ConfigureAsync(ConfigureTests.Message("cleanroom.net=10.0.0.2/24,10.0.0.1,10.0.0.1"), CancellationToken.None);
        Assert.Equal(FrameType.Configure, (await reader.ReadAsync(CancellationToken.None))!.Type);
        pair.Guest.Socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);

        await Assert.ThrowsAsync<WireProtocolException>(() => configure.WaitAsync(Timeout));
        await client.DisposeAsync();
    }

    [Fact]
    public async Task Half_sent_frame_times_out_instead_of_hanging()
    {
        await using var pair = await SocketPair.CreateAsync();
        var (client, _) = await ConnectAsync(pair);
        var header = new byte[FrameHeader.Size];
        new FrameHeader(1000, FrameType.Stdout, 1).Write(header);
        await pair.Guest.WriteAsync(header);
        await pair.Guest.WriteAsync(new byte[10]);

        var error = await Assert.ThrowsAsync<WireProtocolException>(() => client.Completion.WaitAsync(Timeout));
        Assert.Contains("did not arrive", error.Message, StringComparison.Ordinal);
        await client.DisposeAsync();
    }

    [Fact]
    public async Task Fuzz_random_and_truncated_streams_only_ever_raise_protocol_errors()
    {
        var random = new Random(20261129);
        for (var iteration = 0; iteration < 200; iteration++)
        {
            await using var pair = await SocketPair.CreateAsync();
            var (client, guest) = await ConnectAsync(pair);
            var process = await client.StartAsync(new ExecRequest { Argv = ["x"] }, CancellationToken.None);
            var bytes = MakeHostileBytes(random, process.StreamId);
            await pair.Guest.WriteAsync(bytes);
            pair.Guest.Socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);

            // Whatever the bytes were, the connection ends with a protocol error (at worst: the guest hung up).
            var error = await Record.ExceptionAsync(() => client.Completion.WaitAsync(Timeout));
            Assert.IsType<WireProtocolException>(error);
            var processError = await Record.ExceptionAsync(() => process.Exited.WaitAsync(Timeout));
            Assert.True(processError is null or WireProtocolException, $"iteration {iteration}: {processError}");
            await client.DisposeAsync();
        }
    }

    [Fact]
    public void Fuzz_message_decoders_with_random_payloads()
    {
        var random = new Random(7);
        var decoders = new Action<byte[]>[]
        {
            p => HelloMessage.Decode(p),
            p => ExecRequest.Decode(p, WireLimits.Default),
            p => ExitMessage.Decode(p),
            p => SignalMessage.Decode(p),
            p => ResizeMessage.Decode(p),
            p => WindowUpdateMessage.Decode(p),
            p => StartedMessage.Decode(p),
            p => ErrorMessage.Decode(p),
            p => ConfigureMessage.Decode(p),
            p => ConfiguredMessage.Decode(p),
        };
        var valid = new ExecRequest { Argv = ["sh", "-c", "true"], Env = ["A=B"] }.Encode();
        for (var i = 0; i < 20_000; i++)
        {
            var payload = (i % 3) switch
            {
                0 => RandomBytes(random, random.Next(0, 64)),
                1 => valid[..random.Next(0, valid.Length)],
                _ => Mutate(random, valid),
            };
            foreach (var decode in decoders)
            {
                var error = Record.Exception(() => decode(payload));
                Assert.True(error is null or WireProtocolException, $"{error?.GetType()}: {error?.Message}");
            }
        }
    }

    private static async Task<(AgentClient Client, FrameWriter Guest)> ConnectAsync(SocketPair pair)
    {
        var answer = Task.Run(async () =>
        {
            var reader = new FrameReader(pair.Guest, WireLimits.Default);
            var hostHello = HelloMessage.Decode((await reader.ReadAsync(CancellationToken.None))!.Payload.Span);
            var writer = new FrameWriter(pair.Guest, 65536);
            await writer.WriteAsync(FrameType.Hello, 0, new HelloMessage(HelloMessage.CurrentVersion, hostHello.Nonce, 65536, 65536, "raw").Encode(), CancellationToken.None);
            return writer;
        });
        var client = await AgentClient.ConnectAsync(pair.Host, Limits, Timeout, CancellationToken.None);
        return (client, await answer);
    }

    private static byte[] MakeHostileBytes(Random random, uint streamId)
    {
        var stream = new MemoryStream();
        var frames = random.Next(1, 6);
        for (var f = 0; f < frames; f++)
        {
            var type = (FrameType)random.Next(0, 20);
            var payload = RandomBytes(random, random.Next(0, 300));
            var header = new byte[FrameHeader.Size];
            new FrameHeader(random.Next(4) == 0 ? random.Next() : payload.Length, type, random.Next(3) == 0 ? (uint)random.Next() : streamId).Write(header);
            stream.Write(header);
            stream.Write(payload);
        }

        var bytes = stream.ToArray();
        return random.Next(3) == 0 ? bytes[..random.Next(0, bytes.Length)] : bytes;
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    private static byte[] Mutate(Random random, byte[] source)
    {
        var copy = (byte[])source.Clone();
        for (var i = random.Next(1, 4); i > 0; i--)
        {
            copy[random.Next(copy.Length)] = (byte)random.Next(256);
        }

        return copy;
    }
}
