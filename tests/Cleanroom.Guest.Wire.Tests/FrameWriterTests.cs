using Cleanroom.Guest.Wire.Framing;

namespace Cleanroom.Guest.Wire.Tests;

public sealed class FrameWriterTests
{
    private static readonly WireLimits Limits = WireLimits.Default with { MaxFramePayload = 256 * 1024 };

    [Fact]
    public async Task Large_and_small_frames_from_concurrent_writers_arrive_whole_and_never_interleaved()
    {
        // A large payload leaves in its own write after its header; a writer racing with it must not get in between.
        await using var pair = await SocketPair.CreateAsync();
        var writer = new FrameWriter(pair.Guest, Limits.MaxFramePayload, payloadsInPlace: true);
        const int PerWriter = 12;
        var sizes = new[] { 256 * 1024, 16 * 1024, 16 * 1024 - 1, 3 };

        var writes = sizes.Select((size, index) => Task.Run(async () =>
        {
            for (var i = 0; i < PerWriter; i++)
            {
                await writer.WriteAsync(FrameType.Stdout, (uint)index, Payload(index, i, size), CancellationToken.None);
            }
        })).ToArray();

        var reader = new FrameReader(pair.Host, Limits);
        var next = new int[sizes.Length];
        for (var received = 0; received < sizes.Length * PerWriter; received++)
        {
            var frame = await reader.ReadAsync(CancellationToken.None) ?? throw new InvalidOperationException("the stream ended early");
            var index = (int)frame.StreamId;
            Assert.Equal(Payload(index, next[index], sizes[index]), frame.Payload.ToArray());
            next[index]++;
        }

        await Task.WhenAll(writes);
        Assert.All(next, count => Assert.Equal(PerWriter, count));
    }

    [Fact]
    public async Task Frames_from_a_writer_and_its_successor_for_a_new_peer_never_interleave()
    {
        // The guest replaces its writer when a second hello arrives (a new host on the same port), while an output
        // pump may still be sending through the old one: both must take turns on the one stream.
        await using var pair = await SocketPair.CreateAsync();
        var first = new FrameWriter(pair.Guest, 1024, payloadsInPlace: true);
        var successor = first.ForPeer(Limits.MaxFramePayload);
        const int PerWriter = 12;
        var writes = Enumerable.Range(0, 4).Select(index => Task.Run(async () =>
        {
            var writer = index % 2 == 0 ? first : successor;
            var size = index % 2 == 0 ? 1024 : 256 * 1024;
            for (var i = 0; i < PerWriter; i++)
            {
                await writer.WriteAsync(FrameType.Stdout, (uint)index, Payload(index, i, size), CancellationToken.None);
            }
        })).ToArray();

        var reader = new FrameReader(pair.Host, Limits);
        var next = new int[4];
        for (var received = 0; received < 4 * PerWriter; received++)
        {
            var frame = await reader.ReadAsync(CancellationToken.None) ?? throw new InvalidOperationException("the stream ended early");
            var index = (int)frame.StreamId;
            Assert.Equal(Payload(index, next[index], index % 2 == 0 ? 1024 : 256 * 1024), frame.Payload.ToArray());
            next[index]++;
        }

        await Task.WhenAll(writes);
        Assert.All(next, count => Assert.Equal(PerWriter, count));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => first.WriteAsync(FrameType.Stdout, 1, new byte[1025], CancellationToken.None));
    }

    [Fact]
    public async Task A_copying_writer_has_taken_the_payload_when_the_call_returns_even_while_the_frame_waits()
    {
        // The host's writer copies: a caller that stops waiting for a write (a stdin upload whose tool exited) may
        // reuse its buffer at once, and the bytes sent must still be the ones it passed.
        await using var pair = await SocketPair.CreateAsync();
        var writer = new FrameWriter(pair.Host, Limits.MaxFramePayload);
        var blockers = Enumerable.Range(0, 3).Select(i => writer.WriteAsync(FrameType.Stdin, 1, Payload(9, i, 256 * 1024), CancellationToken.None)).ToList();
        var buffer = Payload(1, 1, 20 * 1024);
        var original = buffer.ToArray();
        var waiting = writer.WriteAsync(FrameType.Stdin, 2, buffer, CancellationToken.None);
        Assert.False(waiting.IsCompleted); // behind 768 KiB nobody has read yet
        Array.Fill(buffer, (byte)0xee);

        var reader = new FrameReader(pair.Guest, Limits);
        for (var i = 0; i < 3; i++)
        {
            await reader.ReadAsync(CancellationToken.None);
        }

        var frame = await reader.ReadAsync(CancellationToken.None);
        Assert.Equal(original, frame!.Payload.ToArray());
        await Task.WhenAll([.. blockers, waiting]);
    }

    [Fact]
    public async Task A_payload_over_the_peers_limit_is_refused_before_anything_is_written()
    {
        await using var pair = await SocketPair.CreateAsync();
        var writer = new FrameWriter(pair.Guest, 1024);

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => writer.WriteAsync(FrameType.Stdout, 1, new byte[1025], CancellationToken.None));
        await writer.WriteAsync(FrameType.Stdout, 1, new byte[] { 7 }, CancellationToken.None);

        var frame = await new FrameReader(pair.Host, Limits).ReadAsync(CancellationToken.None);
        Assert.Equal(new byte[] { 7 }, frame!.Payload.ToArray());
    }

    private static byte[] Payload(int writer, int sequence, int size)
    {
        var payload = new byte[size];
        new Random((writer * 1000) + sequence).NextBytes(payload);
        return payload;
    }
}
