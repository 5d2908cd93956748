namespace Cleanroom.Images.Registry;

/// <summary>
/// The body of a blob download handed to a caller that stores it itself (<see cref="RegistryClient.OpenBlobAsync"/>).
/// Read-only and forward-only. Each read waits at most the stall timeout; more than the size bound, a stall or a broken
/// connection fail the read with a <see cref="RegistryException"/>. Disposing it releases the response.
/// </summary>
public sealed class RegistryBlobStream : Stream
{
    private readonly HttpResponseMessage _response;
    private readonly Stream _body;
    private readonly long _maxBytes;
    private readonly TimeSpan _stall;
    private readonly string _subject;
    private long _read;

    internal RegistryBlobStream(HttpResponseMessage response, Stream body, long maxBytes, TimeSpan stall, string subject)
    {
        _response = response;
        _body = body;
        _maxBytes = maxBytes;
        _stall = stall;
        _subject = subject;
    }

    /// <summary>The Content-Length the registry announced, when it announced one.</summary>
    public long? DeclaredLength => _response.Content.Headers.ContentLength;

    /// <inheritdoc/>
    public override bool CanRead => true;

    /// <inheritdoc/>
    public override bool CanSeek => false;

    /// <inheritdoc/>
    public override bool CanWrite => false;

    /// <inheritdoc/>
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc/>
    public override long Position
    {
        get => _read;
        set => throw new NotSupportedException();
    }

    /// <inheritdoc/>
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timer.CancelAfter(_stall);
        int read;
        try
        {
            read = await _body.ReadAsync(buffer, timer.Token);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new RegistryException(RegistryErrorKind.Unavailable, $"{_subject}: no data arrived for {_stall.TotalSeconds:0.#} s", ex);
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException)
        {
            throw new RegistryException(RegistryErrorKind.Unavailable, $"{_subject}: the connection broke mid-body ({ResponseBody.Clean(ex.Message)})", ex);
        }

        return Count(read);
    }

    /// <inheritdoc/>
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc/>
    /// <remarks>Synchronous reads have no stall deadline; the gateway's cache reads asynchronously.</remarks>
    public override int Read(byte[] buffer, int offset, int count)
    {
        try
        {
            return Count(_body.Read(buffer, offset, count));
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException)
        {
            throw new RegistryException(RegistryErrorKind.Unavailable, $"{_subject}: the connection broke mid-body ({ResponseBody.Clean(ex.Message)})", ex);
        }
    }

    /// <inheritdoc/>
    public override void Flush()
    {
    }

    /// <inheritdoc/>
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _body.Dispose();
            _response.Dispose();
        }

        base.Dispose(disposing);
    }

    private int Count(int read)
    {
        _read += read;
        if (_read > _maxBytes)
        {
            throw new RegistryException(RegistryErrorKind.SizeMismatch, $"{_subject} is larger than the {_maxBytes} bytes accepted");
        }

        return read;
    }
}
