namespace Cleanroom.GuestAgent.Tools;

/// <summary>
/// A file's content as exactly the size its tar header announced: a file that grows while it is archived is cut
/// there, one that shrinks is padded with zeros. Either way the archive stays well-formed (tar has no way to say
/// "the size changed"). Reads straight through: nothing is held in memory.
/// </summary>
internal sealed class FixedLengthStream : Stream
{
    private readonly Stream _inner;
    private readonly long _length;
    private long _position;

    public FixedLengthStream(Stream inner, long length)
    {
        _inner = inner;
        _length = length;
    }

    public override bool CanRead => true;

    /// <summary>Seekable so TarWriter takes the size from <see cref="Length"/> instead of buffering the content.</summary>
    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => _length;

    public override long Position
    {
        get => _position;
        set => Seek(value, SeekOrigin.Begin);
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var wanted = (int)Math.Min(buffer.Length, _length - _position);
        if (wanted <= 0)
        {
            return 0;
        }

        var read = _inner.Read(buffer[..wanted]);
        if (read == 0)
        {
            // The file shrank: pad with zeros up to the announced size.
            buffer[..wanted].Clear();
            read = wanted;
        }

        _position += read;
        return read;
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        var target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => _length + offset,
        };
        if (target != _position)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(target);
            _inner.Position = target;
            _position = target;
        }

        return _position;
    }

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
