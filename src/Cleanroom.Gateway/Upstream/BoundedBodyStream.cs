namespace Cleanroom.Gateway.Upstream;

/// <summary>
/// An upstream response body, read-only: reads stop with <see cref="UpstreamFailedException"/> past a byte bound or
/// when the transfer's deadline passes (its token is linked into every read, since the token given to SendAsync no
/// longer governs the body once the headers are in). Disposing it disposes the response and the deadline.
/// </summary>
internal sealed class BoundedBodyStream(Stream inner, long maxBytes, CancellationTokenSource deadline, IDisposable owner) : Stream
{
    private long _read;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => _read;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) =>
        ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        int n;
        try
        {
            n = await inner.ReadAsync(buffer, linked.Token);
        }
        catch (OperationCanceledException ex) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new UpstreamFailedException("the upstream transfer took longer than the gateway's transfer timeout", ex);
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException && ex is not UpstreamFailedException)
        {
            throw new UpstreamFailedException("the upstream connection failed while sending the body: " + ex.Message, ex);
        }

        _read += n;
        if (_read > maxBytes)
        {
            throw new UpstreamFailedException($"the upstream body is larger than the gateway's bound of {maxBytes} bytes");
        }

        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
            owner.Dispose();
            deadline.Dispose();
        }

        base.Dispose(disposing);
    }
}
