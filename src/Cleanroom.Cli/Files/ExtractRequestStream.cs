using Cleanroom.Api.V1;
using Cleanroom.Workspaces.Transfer;
using Google.Protobuf;
using Grpc.Core;

namespace Cleanroom.Cli.Files;

/// <summary>
/// A write-only stream onto ExtractSandboxArchive: what is written goes up in chunks of
/// <see cref="ChunkingStream.ChunkBytes"/>, the first message carrying <paramref name="first"/>'s fields (the sandbox
/// and the directory, or a workspace copy-in).
/// </summary>
internal sealed class ExtractRequestStream : WriteOnlyStream
{
    public const int ChunkBytes = ChunkingStream.ChunkBytes;

    private readonly IClientStreamWriter<ExtractSandboxArchiveRequest> _requests;
    private readonly ChunkingStream _chunks;
    private ExtractSandboxArchiveRequest? _first;

    public ExtractRequestStream(IClientStreamWriter<ExtractSandboxArchiveRequest> requests, ExtractSandboxArchiveRequest first)
    {
        _requests = requests;
        _first = first;
        _chunks = new ChunkingStream(SendAsync);
    }

    public ExtractRequestStream(IClientStreamWriter<ExtractSandboxArchiveRequest> requests, string sandboxId, string directory)
        : this(requests, new ExtractSandboxArchiveRequest { SandboxId = sandboxId, Directory = directory })
    {
    }

    /// <summary>Bytes written so far.</summary>
    public long Sent => _chunks.Written;

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        _chunks.WriteAsync(buffer, cancellationToken);

    /// <summary>Sends what is buffered (and the first message even when nothing was written), then ends the request stream.</summary>
    public async Task CompleteAsync(CancellationToken cancellationToken, IEnumerable<ExtractSandboxArchiveRequest>? trailer = null)
    {
        await _chunks.FlushAsync(cancellationToken);
        if (_first is not null)
        {
            await SendAsync(ReadOnlyMemory<byte>.Empty, cancellationToken);
        }

        foreach (var message in trailer ?? [])
        {
            await _requests.WriteAsync(message, cancellationToken);
        }

        await _requests.CompleteAsync();
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task SendAsync(ReadOnlyMemory<byte> chunk, CancellationToken cancellationToken)
    {
        var message = _first ?? new ExtractSandboxArchiveRequest();
        _first = null;
        message.Data = ByteString.CopyFrom(chunk.Span);
        await _requests.WriteAsync(message, cancellationToken);
    }
}
