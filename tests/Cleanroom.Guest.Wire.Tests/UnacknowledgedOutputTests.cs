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
}
