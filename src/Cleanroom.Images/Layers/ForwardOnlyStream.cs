namespace Cleanroom.Images.Layers;

/// <summary>
/// A read-only, non-seekable view of the decompressed layer that remembers whether its end was reached.
/// Hiding seekability makes TarReader read an uncompressed file blob exactly as it reads a decompressor (it
/// otherwise takes "position == length" for the end of the archive, missing end marker or not).
/// </summary>
internal sealed class ForwardOnlyStream(Stream inner) : Stream
{
    /// <summary>True once a read found no more data.</summary>
    public bool ReachedEnd { get; private set; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(Span<byte> buffer)
    {
        var read = inner.Read(buffer);
        if (read == 0 && !buffer.IsEmpty)
        {
            ReachedEnd = true;
        }

        return read;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int ReadByte()
    {
        Span<byte> one = stackalloc byte[1];
        return Read(one) == 0 ? -1 : one[0];
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
