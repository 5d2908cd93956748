using Cleanroom.Api.V1;
using Google.Protobuf;
using Grpc.Core;

namespace Cleanroom.Cli.Files;

/// <summary>
/// A write-only stream that sends what is written to ExtractSandboxArchive in pieces of <see cref="ChunkBytes"/>:
/// the first message also names the sandbox and the directory. Only the asynchronous writes are supported, so a
/// slow daemon holds the writer back instead of a thread.
/// </summary>
internal sealed class ExtractRequestStream(IClientStreamWriter<ExtractSandboxArchiveRequest> requests, string sandboxId, string directory) : Stream
{
    /// <summary>Big enough to amortise a message, far below gRPC's 4 MiB message limit.</summary>
    public const int ChunkBytes = 256 << 10;

    private readonly byte[] _buffer = new byte[ChunkBytes];
    private int _buffered;
    private bool _sentFirst;

    /// <summary>Bytes handed to the daemon so far.</summary>
    public long Sent { get; private set; }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (!buffer.IsEmpty)
        {
            var take = Math.Min(buffer.Length, ChunkBytes - _buffered);
            buffer.Span[..take].CopyTo(_buffer.AsSpan(_buffered));
            _buffered += take;
            buffer = buffer[take..];
            if (_buffered == ChunkBytes)
            {
                await SendAsync(cancellationToken);
            }
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>Sends what is buffered (and the first message even when nothing was written), then ends the request stream.</summary>
    public async Task CompleteAsync(CancellationToken cancellationToken)
    {
        if (_buffered > 0 || !_sentFirst)
        {
            await SendAsync(cancellationToken);
        }

        await requests.CompleteAsync();
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override void Flush()
    {
    }

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("write asynchronously");

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    private async Task SendAsync(CancellationToken cancellationToken)
    {
        var message = new ExtractSandboxArchiveRequest { Data = ByteString.CopyFrom(_buffer, 0, _buffered) };
        if (!_sentFirst)
        {
            message.SandboxId = sandboxId;
            message.Directory = directory;
            _sentFirst = true;
        }

        await requests.WriteAsync(message, cancellationToken);
        Sent += _buffered;
        _buffered = 0;
    }
}
