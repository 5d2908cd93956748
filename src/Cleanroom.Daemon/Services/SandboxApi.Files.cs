using Cleanroom.Api.V1;
using Cleanroom.Workspaces.Transfer;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace Cleanroom.Daemon.Services;

/// <summary>The file RPCs of cleanroom.v1.SandboxService: requests checked here, the work in <see cref="Files.SandboxFiles"/>.</summary>
internal sealed partial class SandboxApi
{
    public override async Task<DownloadSandboxFileResponse> DownloadSandboxFile(DownloadSandboxFileRequest request, ServerCallContext context)
    {
        var data = await files.DownloadAsync(request.SandboxId, request.Path, request.MaxBytes, context.CancellationToken);
        return new DownloadSandboxFileResponse { SandboxId = request.SandboxId, Path = request.Path, Data = ByteString.CopyFrom(data), SizeBytes = data.Length };
    }

    public override async Task<UploadSandboxFileResponse> UploadSandboxFile(IAsyncStreamReader<UploadSandboxFileRequest> requestStream, ServerCallContext context)
    {
        var ct = context.CancellationToken;
        if (!await requestStream.MoveNext(ct))
        {
            throw DaemonException.InvalidArgument("missing upload: the first message names the sandbox and the path");
        }

        var first = requestStream.Current;
        if (first.Mode > 0xFFF)
        {
            throw DaemonException.InvalidArgument("mode holds more than permission and set-id bits");
        }

        _ = sandboxes.Get(first.SandboxId); // NotFound before anything is staged
        var staging = Path.Combine(options.StateDir, "tmp");
        Directory.CreateDirectory(staging);
        var path = Path.Combine(staging, "upload-" + Ids.New());
        try
        {
            await using var content = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose | FileOptions.Asynchronous);
            var message = first;
            while (true)
            {
                if (content.Length + message.Data.Length > options.MaxUploadBytes)
                {
                    throw new DaemonException(StatusCode.ResourceExhausted, ReasonCode.ResourceLimitExceeded, $"the upload is larger than {options.MaxUploadBytes} bytes; use ExtractSandboxArchive for big transfers");
                }

                await content.WriteAsync(message.Data.Memory, ct);
                if (!await requestStream.MoveNext(ct))
                {
                    break;
                }

                message = requestStream.Current;
            }

            content.Position = 0;
            var mode = first.Mode == 0 ? (UnixFileMode)0x1A4 : (UnixFileMode)first.Mode; // 0644
            await files.UploadAsync(first.SandboxId, first.Path, mode, content, ct);
            return new UploadSandboxFileResponse { Path = first.Path, SizeBytes = content.Length };
        }
        finally
        {
            File.Delete(path);
        }
    }

    public override async Task<StatSandboxPathResponse> StatSandboxPath(StatSandboxPathRequest request, ServerCallContext context)
    {
        var stat = await files.StatAsync(request.SandboxId, request.Path, context.CancellationToken);
        return new StatSandboxPathResponse
        {
            Stat = stat is null ? null : new SandboxPathStat
            {
                Path = stat.Path,
                Type = stat.Type,
                Mode = stat.Mode,
                SizeBytes = stat.Size,
                ModifiedAt = Timestamp.FromDateTimeOffset(stat.ModifiedAt),
                Uid = stat.Uid,
                Gid = stat.Gid,
                LinkTarget = stat.LinkTarget,
            },
        };
    }

    public override async Task ArchiveSandboxPaths(ArchiveSandboxPathsRequest request, IServerStreamWriter<ArchiveSandboxPathsResponse> responseStream, ServerCallContext context)
    {
        var chunks = new ChunkingStream((chunk, ct) => responseStream.WriteAsync(new ArchiveSandboxPathsResponse { Data = ByteString.CopyFrom(chunk.Span) }, ct));
        await files.ArchiveAsync(request.SandboxId, request.Base.Length == 0 ? "/" : request.Base, request.Paths, request.Exclude, chunks.WriteAsync, context.CancellationToken);
        await chunks.FlushAsync(context.CancellationToken);
    }

    public override async Task<ExtractSandboxArchiveResponse> ExtractSandboxArchive(IAsyncStreamReader<ExtractSandboxArchiveRequest> requestStream, ServerCallContext context)
    {
        var ct = context.CancellationToken;
        if (!await requestStream.MoveNext(ct))
        {
            throw DaemonException.InvalidArgument("missing archive: the first message names the sandbox and the directory");
        }

        var first = requestStream.Current;
        if (first.WorkspaceCopyIn)
        {
            if (first.Directory.Length > 0)
            {
                throw DaemonException.InvalidArgument("a workspace copy-in goes to the workspace's own path: leave directory empty");
            }

            return new ExtractSandboxArchiveResponse
            {
                Bytes = await workspaces.CopyInAsync(first.SandboxId, (stdin, manifest, token) => RelayAsync(requestStream, first, stdin, manifest, token), ct),
            };
        }

        if (first.BaseManifest.Length > 0)
        {
            throw DaemonException.InvalidArgument("base_manifest belongs to a workspace copy-in");
        }

        return new ExtractSandboxArchiveResponse
        {
            Bytes = await files.ExtractAsync(first.SandboxId, first.Directory, first.Whiteouts, ownerOfRoot: false, (stdin, token) => RelayAsync(requestStream, first, stdin, null, token), ct),
        };
    }

    public override async Task ArchiveWorkspaceChanges(ArchiveWorkspaceChangesRequest request, IServerStreamWriter<ArchiveWorkspaceChangesResponse> responseStream, ServerCallContext context)
    {
        // The manifest goes first, in pieces well below the message limit, so the client has it before the tar starts.
        const int ManifestPiece = 1 << 20;
        var chunks = new ChunkingStream((chunk, ct) => responseStream.WriteAsync(new ArchiveWorkspaceChangesResponse { Data = ByteString.CopyFrom(chunk.Span) }, ct));
        await workspaces.ArchiveAsync(request.SandboxId, async (workspace, manifest, ct) =>
        {
            await responseStream.WriteAsync(new ArchiveWorkspaceChangesResponse { Commit = workspace.Commit, Path = workspace.Path }, ct);
            for (var at = 0; at < manifest.Length; at += ManifestPiece)
            {
                await responseStream.WriteAsync(new ArchiveWorkspaceChangesResponse { BaseManifest = manifest.Substring(at, Math.Min(ManifestPiece, manifest.Length - at)) }, ct);
            }
        }, chunks.WriteAsync, context.CancellationToken);
        await chunks.FlushAsync(context.CancellationToken);
    }

    /// <summary>Copies the request stream's data into the tool's stdin and, for a copy-in, its manifest pieces into <paramref name="manifest"/>.</summary>
    private static async Task RelayAsync(IAsyncStreamReader<ExtractSandboxArchiveRequest> requestStream, ExtractSandboxArchiveRequest first, Stream stdin, System.Text.StringBuilder? manifest, CancellationToken ct)
    {
        var message = first;
        while (true)
        {
            await stdin.WriteAsync(message.Data.Memory, ct);
            if (manifest is not null && message.BaseManifest.Length > 0)
            {
                if (manifest.Length + message.BaseManifest.Length > Files.WorkspaceChanges.MaxManifestChars)
                {
                    throw new DaemonException(StatusCode.ResourceExhausted, ReasonCode.WorkspaceTooLarge, $"the copy-in's base manifest is larger than {Files.WorkspaceChanges.MaxManifestChars} characters");
                }

                manifest.Append(message.BaseManifest);
            }

            if (!await requestStream.MoveNext(ct))
            {
                return;
            }

            message = requestStream.Current;
        }
    }

    public override async Task<RemoveSandboxPathResponse> RemoveSandboxPath(RemoveSandboxPathRequest request, ServerCallContext context) =>
        new() { Removed = await files.RemoveAsync(request.SandboxId, request.Path, request.Recursive, request.Force, context.CancellationToken) };
}
