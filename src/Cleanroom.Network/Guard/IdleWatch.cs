namespace Cleanroom.Network.Guard;

/// <summary>
/// Ends a connection when nothing moved in either direction for a while. One watch per connection, touched by both
/// relay directions: a long download with a silent client is not idle.
/// </summary>
internal sealed class IdleWatch(TimeProvider time, TimeSpan timeout)
{
    private long _last = time.GetTimestamp();

    /// <summary>Set once the watch ended the connection.</summary>
    public bool Expired { get; private set; }

    public void Touch() => Volatile.Write(ref _last, time.GetTimestamp());

    /// <summary>Cancels <paramref name="connection"/> when the timeout passes without a touch; returns when it is cancelled.</summary>
    public async Task RunAsync(CancellationTokenSource connection)
    {
        try
        {
            while (true)
            {
                var idle = time.GetElapsedTime(Volatile.Read(ref _last));
                if (idle >= timeout)
                {
                    Expired = true;
                    await connection.CancelAsync();
                    return;
                }

                await Task.Delay(timeout - idle, time, connection.Token);
            }
        }
        catch (OperationCanceledException)
        {
            // The connection ended for another reason.
        }
    }
}
