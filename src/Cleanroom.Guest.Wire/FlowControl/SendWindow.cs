namespace Cleanroom.Guest.Wire.FlowControl;

/// <summary>
/// The sender's side of a stream's flow control: bytes it may still send. Senders wait when it is empty until the
/// receiver grants more, so a slow reader bounds what is buffered on both sides.
/// </summary>
public sealed class SendWindow
{
    private readonly object _lock = new();
    private long _available;
    private TaskCompletionSource? _waiter;
    private Exception? _failure;

    public SendWindow(int initial) => _available = initial;

    /// <summary>Adds credit from a window update; a total beyond int.MaxValue is a protocol error.</summary>
    public void Grant(uint increment)
    {
        TaskCompletionSource? waiter;
        lock (_lock)
        {
            _available += increment;
            if (_available > int.MaxValue)
            {
                throw new WireProtocolException($"window update overflows the send window ({_available} bytes)");
            }

            waiter = _waiter;
            _waiter = null;
        }

        waiter?.TrySetResult();
    }

    /// <summary>Takes up to <paramref name="wanted"/> bytes of credit, waiting while none is available.</summary>
    public async ValueTask<int> AcquireAsync(int wanted, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task wait;
            lock (_lock)
            {
                if (_failure is not null)
                {
                    throw new WireProtocolException("stream closed: " + _failure.Message, _failure);
                }

                if (_available > 0)
                {
                    var granted = (int)Math.Min(wanted, _available);
                    _available -= granted;
                    return granted;
                }

                _waiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                wait = _waiter.Task;
            }

            await wait.WaitAsync(cancellationToken);
        }
    }

    /// <summary>Wakes every waiter with an error: the stream or connection is gone.</summary>
    public void Fail(Exception reason)
    {
        TaskCompletionSource? waiter;
        lock (_lock)
        {
            _failure ??= reason;
            waiter = _waiter;
            _waiter = null;
        }

        waiter?.TrySetResult();
    }
}
