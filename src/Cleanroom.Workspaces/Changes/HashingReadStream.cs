using System.Security.Cryptography;

namespace Cleanroom.Workspaces.Changes;

/// <summary>
/// Feeds a file to <see cref="System.Formats.Tar.TarWriter"/> while hashing it, so each file of a copy-in is read
/// once. It yields exactly the size the tar header was given: a file that grew is cut there, one that shrank fails
/// (an entry whose data does not match its header would corrupt the archive). TarWriter takes the size from
/// <see cref="Length"/> and <see cref="Position"/>, which is why this seekable-looking stream reports both.
/// </summary>
internal sealed class HashingReadStream(Stream inner, long length, IncrementalHash hash, string displayPath) : Stream
{
    private long _read;

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => length;

    public override long Position
    {
        get => _read;
        set => throw new NotSupportedException();
    }

    public override int Read(Span<byte> buffer)
    {
        if (_read == length || buffer.IsEmpty)
        {
            return 0;
        }

        var read = inner.Read(buffer[..(int)Math.Min(buffer.Length, length - _read)]);
        if (read == 0)
        {
            throw new WorkspaceException(WorkspaceErrorKind.BuildFailed, $"'{displayPath}' became shorter while it was copied in; try again.");
        }

        hash.AppendData(buffer[..read]);
        _read += read;
        return read;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Task.FromResult(Read(buffer.AsSpan(offset, count)));

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
        }

        base.Dispose(disposing);
    }
}
