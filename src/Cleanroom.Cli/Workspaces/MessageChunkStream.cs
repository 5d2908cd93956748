namespace Cleanroom.Cli.Workspaces;

/// <summary>
/// A write-only stream that cuts what is written into messages of at most <see cref="ChunkBytes"/> and hands each to
/// <paramref name="send"/>: how a tar made on the fly goes up a client stream without being held whole.
/// </summary>
internal sealed class MessageChunkStream(Func<ReadOnlyMemory<byte>, CancellationToken, Task> send) : Stream
{
    /// <summary>Big enough to amortise a message, well below the daemon's 4 MiB message limit.</summary>
    public const int ChunkBytes = 256 << 10;

    private readonly byte[] _buffer = new byte[ChunkBytes];
    private int _filled;

    public long Written { get; private set; }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (buffer.Length > 0)
        {
            var take = Math.Min(buffer.Length, ChunkBytes - _filled);
            buffer.Span[..take].CopyTo(_buffer.AsSpan(_filled));
            _filled += take;
            buffer = buffer[take..];
            Written += take;
            if (_filled == ChunkBytes)
            {
                await FlushAsync(cancellationToken);
            }
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

    /// <summary>Sends what is buffered (call once after the last write).</summary>
    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        if (_filled > 0)
        {
            await send(_buffer.AsMemory(0, _filled).ToArray(), cancellationToken);
            _filled = 0;
        }
    }

    public override void Flush() => FlushAsync(CancellationToken.None).GetAwaiter().GetResult();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
