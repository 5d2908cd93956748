using Cleanroom.Api.V1;
using Cleanroom.Cli.Rendering;
using Cleanroom.Client;
using Google.Protobuf;
using Grpc.Core;

namespace Cleanroom.Cli.Images;

/// <summary>Streams an image archive to the daemon's ImportImage: the first message names the image, every message carries up to 1 MiB.</summary>
internal static class ArchiveUpload
{
    /// <summary>Well under gRPC's default 4 MiB message limit, and small enough for progress to move smoothly.</summary>
    public const int ChunkBytes = 1 << 20;

    public static async Task<ImportImageResponse> SendAsync(DaemonConnection connection, string reference, Stream archive, TransferProgress progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(archive);
        ArgumentNullException.ThrowIfNull(progress);
        using var call = connection.Images.ImportImage(cancellationToken: cancellationToken);
        RpcException? writeFailure = null;
        try
        {
            var buffer = new byte[ChunkBytes];
            long sent = 0;
            var first = true;
            while (true)
            {
                // A read from a pipe ignores its token; waiting on the token as well lets Ctrl-C end the command.
                var read = await archive.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken).AsTask().WaitAsync(cancellationToken);
                if (read == 0 && !first)
                {
                    break;
                }

                var chunk = new ImportImageChunk { Data = ByteString.CopyFrom(buffer, 0, read) };
                if (first)
                {
                    chunk.Ref = reference;
                    first = false;
                }

                await call.RequestStream.WriteAsync(chunk, cancellationToken);
                sent += read;
                progress.Sent(sent);
                if (read < buffer.Length)
                {
                    break;
                }
            }

            await call.RequestStream.CompleteAsync();
            progress.Waiting($"importing {ImagePull.Canonical(reference)}");
        }
        catch (RpcException ex) when (!cancellationToken.IsCancellationRequested)
        {
            // The daemon ended the call early (an archive over its size limit, a bad reference): its status says why.
            writeFailure = ex;
        }

        var response = await call.ResponseAsync;
        return writeFailure is null ? response : throw writeFailure;
    }
}
