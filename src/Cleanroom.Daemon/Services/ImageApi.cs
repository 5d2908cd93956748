using Cleanroom.Api.V1;
using Cleanroom.Daemon.Admission;
using Cleanroom.Daemon.Sandboxes;
using Cleanroom.Images;
using Cleanroom.Oci;
using Grpc.Core;

namespace Cleanroom.Daemon.Services;

/// <summary>cleanroom.v1.ImageService: a thin layer over <see cref="ImageManager"/>.</summary>
internal sealed class ImageApi(ImageManager images, SandboxManager sandboxes, DaemonOptions options) : ImageService.ImageServiceBase
{
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(200);

    // Pulls and imports write into the image store: they stop at the same free-space reserve as sandboxes do.
    private readonly DiskReserve _disk = new(options.EffectiveImagesDir, options.MinFreeDiskBytes);

    public override async Task PullImage(PullImageRequest request, IServerStreamWriter<PullImageEvent> responseStream, ServerCallContext context)
    {
        var reference = ParseRef(request.Ref);
        if (request.IfMissing && images.FindCached(reference) is { } stored)
        {
            await responseStream.WriteAsync(new PullImageEvent { Phase = Api.V1.PullPhase.Done, Digest = stored.Digest.ToString(), Image = stored.ToProto(), Cached = true }, context.CancellationToken);
            return;
        }

        _disk.EnsureAvailable("image pulls");
        await responseStream.WriteAsync(new PullImageEvent { Phase = Api.V1.PullPhase.Resolving }, context.CancellationToken);
        var pull = await images.BeginPullAsync(reference, context.CancellationToken);
        PullImageEvent? last = null;
        while (!pull.Completion.IsCompleted)
        {
            var progress = pull.Snapshot().ToProto();
            if (!progress.Equals(last))
            {
                await responseStream.WriteAsync(progress, context.CancellationToken);
                last = progress;
            }

            await Task.WhenAny(pull.Completion, Task.Delay(ProgressInterval, context.CancellationToken));
            context.CancellationToken.ThrowIfCancellationRequested();
        }

        var image = await pull.Completion;
        var done = pull.Snapshot().ToProto();
        done.Image = image.ToProto();
        done.Cached = pull.WasCached;
        await responseStream.WriteAsync(done, context.CancellationToken);
    }

    public override Task<ListImagesResponse> ListImages(ListImagesRequest request, ServerCallContext context)
    {
        var response = new ListImagesResponse();
        response.Images.AddRange(images.List().Select(i => i.ToProto()));
        return Task.FromResult(response);
    }

    public override Task<RemoveImageResponse> RemoveImage(RemoveImageRequest request, ServerCallContext context)
    {
        if (string.IsNullOrWhiteSpace(request.Selector))
        {
            throw DaemonException.InvalidArgument("name the image to remove: a ref, repo@sha256:…, sha256:… or 12+ hex digits");
        }

        var removed = images.Remove(request.Selector, sandboxes.SandboxUsingImage);
        return Task.FromResult(new RemoveImageResponse { Image = removed.ToProto() });
    }

    public override Task<PruneImagesResponse> PruneImages(PruneImagesRequest request, ServerCallContext context)
    {
        var result = images.Prune(sandboxes.SandboxUsingImage, request.DryRun);
        var response = new PruneImagesResponse { FreedBytes = result.FreedBytes, DryRun = result.DryRun };
        response.Removed.AddRange(result.Removed.Select(i => i.ToProto()));
        return Task.FromResult(response);
    }

    public override async Task<ImportImageResponse> ImportImage(IAsyncStreamReader<ImportImageChunk> requestStream, ServerCallContext context)
    {
        var ct = context.CancellationToken;
        if (!await requestStream.MoveNext(ct))
        {
            throw DaemonException.InvalidArgument("the import stream was empty");
        }

        var reference = ParseRef(requestStream.Current.Ref);
        _disk.EnsureAvailable("image imports");
        Directory.CreateDirectory(images.Options.StagingDirectory);
        var upload = Path.Combine(images.Options.StagingDirectory, "upload-" + Guid.NewGuid().ToString("N")[..12] + ".tar");
        try
        {
            await using (var file = new FileStream(upload, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                var chunk = requestStream.Current;
                while (true)
                {
                    if (file.Length + chunk.Data.Length > images.Options.MaxImportBytes)
                    {
                        throw DaemonException.InvalidArgument($"the archive is larger than the import limit of {images.Options.MaxImportBytes} bytes");
                    }

                    chunk.Data.WriteTo(file);
                    if (!await requestStream.MoveNext(ct))
                    {
                        break;
                    }

                    chunk = requestStream.Current;
                }
            }

            var image = await images.ImportAsync(reference, upload, ct);
            return new ImportImageResponse { Image = image.ToProto() };
        }
        finally
        {
            File.Delete(upload);
        }
    }

    public override async Task<ResolveImageResponse> ResolveImage(ResolveImageRequest request, ServerCallContext context)
    {
        var reference = ParseRef(request.Ref);
        var digest = await images.ResolveAsync(reference, context.CancellationToken);
        return new ResolveImageResponse { Digest = digest.ToString(), Repository = reference.Repository, ResolvedRef = reference.Repository + "@" + digest };
    }

    private static ImageReference ParseRef(string text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw DaemonException.InvalidArgument("missing image reference");
        }

        if (text.Trim() == BuiltinImage.Ref)
        {
            throw DaemonException.InvalidArgument($"'{BuiltinImage.Ref}' is built into the daemon; it is not in the image store");
        }

        return ImageReference.Parse(text, out var problem) ?? throw DaemonException.InvalidArgument($"'{text}' is not a valid image reference: {problem}");
    }
}
