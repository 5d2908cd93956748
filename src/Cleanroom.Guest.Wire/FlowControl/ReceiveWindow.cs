namespace Cleanroom.Guest.Wire.FlowControl;

/// <summary>
/// The receiver's side of a stream's flow control. Incoming data must fit in what was granted (otherwise the peer
/// is flooding: a protocol error); consumed bytes are handed back in batches so updates are not sent per frame.
/// </summary>
public sealed class ReceiveWindow
{
    private readonly object _lock = new();
    private readonly int _updateThreshold;
    private long _remaining;
    private long _consumedNotGranted;

    public ReceiveWindow(int initial)
    {
        _remaining = initial;

        // Below the full window so the sender always keeps some credit while an update is in flight.
        _updateThreshold = Math.Max(1, initial / 4);
    }

    /// <summary>
    /// Accounts for arriving data; throws when the peer sends more than it was allowed, or an empty data frame: one
    /// costs no credit, so a peer could otherwise queue unbounded numbers of them on the receiver.
    /// </summary>
    public void OnReceived(int bytes)
    {
        if (bytes <= 0)
        {
            throw new WireProtocolException("peer sent an empty data frame (data frames must carry at least one byte)");
        }

        lock (_lock)
        {
            if (bytes > _remaining)
            {
                throw new WireProtocolException($"peer sent {bytes} bytes with only {_remaining} bytes of window left (flow control violated)");
            }

            _remaining -= bytes;
        }
    }

    /// <summary>Records bytes the consumer took; returns the increment to grant now, or 0 to keep batching.</summary>
    public uint OnConsumed(int bytes)
    {
        lock (_lock)
        {
            _consumedNotGranted += bytes;
            if (_consumedNotGranted < _updateThreshold)
            {
                return 0;
            }

            var grant = (uint)_consumedNotGranted;
            _remaining += grant;
            _consumedNotGranted = 0;
            return grant;
        }
    }
}
