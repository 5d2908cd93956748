namespace Cleanroom.Workspaces.Transfer;

/// <summary>
/// A write-only stream that cuts what is written into chunks of <see cref="ChunkBytes"/> and hands each to
/// <paramref name="send"/> (one message of a gRPC stream each); <see cref="FlushAsync(CancellationToken)"/> sends the
/// rest. How a tar made on the fly crosses an RPC without being held whole.
/// </summary>
/// <param name="send">Sends one chunk; the memory is reused after it returns, so copy it if it is kept.</param>
public sealed class ChunkingStream(Func<ReadOnlyMemory<byte>, CancellationToken, Task> send) : WriteOnlyStream
{
    /// <summary>Big enough to amortise a message, well below gRPC's 4 MiB message limit.</summary>
    public const int ChunkBytes = 256 << 10;

    private readonly byte[] _buffer = new byte[ChunkBytes];
    private int _filled;

    /// <summary>Bytes written so far (sent or buffered).</summary>
    public long Written { get; private set; }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (!buffer.IsEmpty)
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

    /// <summary>Sends what is buffered (call once after the last write).</summary>
    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        if (_filled > 0)
        {
            await send(_buffer.AsMemory(0, _filled), cancellationToken);
            _filled = 0;
        }
    }
}
