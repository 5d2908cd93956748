using Cleanroom.Guest.Wire.Framing;

namespace Cleanroom.Guest.Wire.FlowControl;

/// <summary>Sends a buffer as data frames no larger than the peer's frame limit and never beyond the send window.</summary>
internal static class DataSender
{
    public static async Task SendAsync(FrameWriter writer, FrameType type, uint streamId, SendWindow window, int maxFrame, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        while (!data.IsEmpty)
        {
            var credit = await window.AcquireAsync(Math.Min(data.Length, maxFrame), cancellationToken);
            await writer.WriteAsync(type, streamId, data[..credit], cancellationToken);
            data = data[credit..];
        }
    }
}
