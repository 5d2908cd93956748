using System.Buffers;
using Cleanroom.Guest.Wire.Guest;

namespace Cleanroom.Guest.Wire.Tests;

public class UnacknowledgedOutputTests
{
    [Fact]
    public void Acknowledged_bytes_are_dropped_and_the_rest_is_kept_in_order_across_streams()
    {
        var kept = new UnacknowledgedOutput();
        kept.Add(OutputStreamKind.Stdout, "hello "u8);
        kept.Add(OutputStreamKind.Stderr, "oops "u8);
        kept.Add(OutputStreamKind.Stdout, "world"u8);

        kept.Acknowledge(8);

        Assert.Equal((16L, 8L, 8L), (kept.Sent, kept.Acknowledged, kept.Kept));
        var pieces = kept.Snapshot();
        Assert.Equal([OutputStreamKind.Stderr, OutputStreamKind.Stdout], pieces.Select(p => p.Kind));
        Assert.Equal("ps world", string.Concat(pieces.Select(p => System.Text.Encoding.ASCII.GetString(p.Data.Span))));
    }

    [Fact]
    public void Added_bytes_are_a_copy_and_kept_bytes_are_the_callers_own()
    {
        // The output pump reuses its buffer after a small read (Add) and gives it up after a large one (Keep).
        var reused = new byte[] { 1, 2, 3 };
        var handedOver = new byte[] { 4, 5, 6 };
        var kept = new UnacknowledgedOutput();
        kept.Add(OutputStreamKind.Stdout, reused);
        kept.Keep(OutputStreamKind.Stdout, handedOver);
        Array.Fill(reused, (byte)0);

        var pieces = kept.Snapshot();
        Assert.Equal(new byte[] { 1, 2, 3 }, pieces[0].Data.ToArray());
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(pieces[1].Data, out var segment));
        Assert.Same(handedOver, segment.Array);
        Assert.Equal(6, kept.Sent);
    }

    [Fact]
    public void A_position_before_what_was_dropped_or_after_what_was_sent_is_refused()
    {
        var kept = new UnacknowledgedOutput();
        kept.Add(OutputStreamKind.Stdout, new byte[100]);
        Assert.True(kept.AcknowledgeTo(40));

        Assert.False(kept.AcknowledgeTo(39));
        Assert.False(kept.AcknowledgeTo(101));
        Assert.Equal(60, kept.Kept);

        // A grant beyond what was sent acknowledges what was sent, no more.
        kept.Acknowledge(1000);
        Assert.Equal(0, kept.Kept);
        Assert.Empty(kept.Snapshot());
    }

    [Fact]
    public void A_rented_array_goes_back_to_its_pool_once_the_last_piece_cut_from_it_is_acknowledged_and_not_before()
    {
        // The pump's 256 KiB buffer is sent as several frames when the window is short; the pump reads into the array
        // again once it is back in the pool, so returning it while a piece of it is kept would replay the wrong bytes.
        var pool = new RecordingPool();
        var kept = new UnacknowledgedOutput(pool);
        var first = new byte[100];
        var second = new byte[100];
        kept.Keep(OutputStreamKind.Stdout, first.AsMemory(0, 40));
        kept.Keep(OutputStreamKind.Stdout, first.AsMemory(40, 60), rented: first);
        kept.Keep(OutputStreamKind.Stderr, second.AsMemory(0, 10), rented: second);

        kept.Acknowledge(40);
        kept.Acknowledge(59);
        Assert.Empty(pool.Returned);

        kept.Acknowledge(1);
        Assert.Equal([first], pool.Returned);

        kept.Acknowledge(10);
        Assert.Equal([first, second], pool.Returned);
        Assert.Equal(0, kept.Kept);
    }

    private sealed class RecordingPool : ArrayPool<byte>
    {
        public List<byte[]> Returned { get; } = [];

        public override byte[] Rent(int minimumLength) => new byte[minimumLength];

        public override void Return(byte[] array, bool clearArray = false) => Returned.Add(array);
    }
}
