namespace Cleanroom.Images.Registry;

/// <summary>
/// Reads from a response body with a deadline per read rather than per body: a 2 GB layer may take many minutes, but
/// a connection that delivers nothing for <c>RequestTimeout</c> is dead. Network errors become
/// <see cref="TransientRegistryFailure"/>s so the download resumes instead of failing.
/// </summary>
internal sealed class StallGuard : IDisposable
{
    private readonly CancellationTokenSource _timer;
    private readonly CancellationToken _caller;
    private readonly TimeSpan _stall;

    public StallGuard(TimeSpan stall, CancellationToken caller)
    {
        _stall = stall;
        _caller = caller;
        _timer = CancellationTokenSource.CreateLinkedTokenSource(caller);
    }

    public async ValueTask<int> ReadAsync(Stream body, Memory<byte> buffer)
    {
        _timer.CancelAfter(_stall);
        try
        {
            return await body.ReadAsync(buffer, _timer.Token);
        }
        catch (OperationCanceledException ex) when (!_caller.IsCancellationRequested)
        {
            throw new TransientRegistryFailure($"no data arrived for {_stall.TotalSeconds:0.#} s", null, ex);
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException)
        {
            throw new TransientRegistryFailure($"the connection broke mid-response ({ex.Message})", null, ex);
        }
    }

    public void Dispose() => _timer.Dispose();
}
