using System.Security.Cryptography;
using System.Text;
using Cleanroom.Api.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace Cleanroom.Cli.Tests.FakeDaemon;

/// <summary>
/// The fake daemon's ImageService, with canned behaviour chosen by the reference: names containing "missing" are
/// not found, "fresh" ones are downloaded (with progress events), "hang" ones never finish, and anything else is
/// already in the store. Digests are <see cref="DigestOf"/> the name, so tests can predict them.
/// </summary>
internal sealed class FakeImageService(FakeDaemonState state) : ImageService.ImageServiceBase
{
    public static readonly long[] FreshLayerSizes = [3 * 1024 * 1024, 512 * 1024];

    public static string DigestOf(string text) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    public static string DigestOf(byte[] data) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(data));

    public static Image ImageFor(string reference, string digest, DateTime lastUsed) => new()
    {
        Digest = digest,
        Refs = { reference },
        ContentBytes = 3_565_158,
        FilesystemBytes = 16 * 1024 * 1024,
        CreatedAt = Timestamp.FromDateTime(lastUsed.AddDays(-1)),
        LastUsedAt = Timestamp.FromDateTime(lastUsed),
        Source = "registry",
        Platform = "linux/amd64",
        RootfsPath = "/var/lib/cleanroom/images/" + digest[7..19] + ".ext4",
    };

    public override async Task PullImage(PullImageRequest request, IServerStreamWriter<PullImageEvent> responseStream, ServerCallContext context)
    {
        state.Log("PullImage " + (request.IfMissing ? "if-missing " : "") + request.Ref);
        state.PullRequests.Enqueue(request.Ref);
        if (request.Ref.Contains("missing", StringComparison.Ordinal))
        {
            throw NotFound($"manifest unknown: {request.Ref}");
        }

        await responseStream.WriteAsync(new PullImageEvent { Phase = PullPhase.Resolving });
        if (request.Ref.Contains("hang", StringComparison.Ordinal))
        {
            state.HangingPullStarted.TrySetResult();
            await Task.Delay(Timeout.Infinite, context.CancellationToken);
        }

        var digest = DigestOf(request.Ref);
        var fresh = request.Ref.Contains("fresh", StringComparison.Ordinal);
        if (fresh)
        {
            // Several events per phase, as the real daemon sends snapshots: the client must not print each one.
            foreach (var fraction in new[] { 0.0, 0.5, 1.0 })
            {
                await responseStream.WriteAsync(Progress(PullPhase.Downloading, digest, fraction, applied: false));
            }

            await responseStream.WriteAsync(Progress(PullPhase.Building, digest, 1.0, applied: true));
            await responseStream.WriteAsync(Progress(PullPhase.Building, digest, 1.0, applied: true));
        }

        var image = state.Images.GetOrAdd(digest, _ => ImageFor(request.Ref, digest, DateTime.UtcNow));
        var done = Progress(PullPhase.Done, digest, 1.0, applied: true);
        done.Image = image.Clone();
        done.Cached = !fresh;
        await responseStream.WriteAsync(done);
    }

    public override Task<ListImagesResponse> ListImages(ListImagesRequest request, ServerCallContext context)
    {
        var response = new ListImagesResponse();
        response.Images.AddRange(state.Images.Values.Select(i => i.Clone()));
        return Task.FromResult(response);
    }

    public override Task<RemoveImageResponse> RemoveImage(RemoveImageRequest request, ServerCallContext context)
    {
        var selector = request.Selector;
        var hex = selector.StartsWith("sha256:", StringComparison.Ordinal) ? selector[7..] : selector;
        var match = state.Images.Values.FirstOrDefault(i => i.Refs.Contains(selector) || (hex.Length >= 12 && i.Digest[7..].StartsWith(hex, StringComparison.Ordinal)));
        if (match is null || !state.Images.TryRemove(match.Digest, out _))
        {
            throw NotFound($"no stored image matches '{selector}' (see `cleanroom image ls`)");
        }

        return Task.FromResult(new RemoveImageResponse { Image = match });
    }

    /// <summary>
    /// Prunes only images whose first ref starts with "prune-" (other tests' images stay), and of those not the ones
    /// whose ref contains "in-use": what a sandbox booting from them would keep.
    /// </summary>
    public override Task<PruneImagesResponse> PruneImages(PruneImagesRequest request, ServerCallContext context)
    {
        state.Log("PruneImages" + (request.DryRun ? " dry-run" : ""));
        var unused = state.Images.Values
            .Where(i => i.Refs[0].StartsWith("prune-", StringComparison.Ordinal) && !i.Refs[0].Contains("in-use", StringComparison.Ordinal))
            .OrderBy(i => i.LastUsedAt)
            .ToList();
        var response = new PruneImagesResponse { DryRun = request.DryRun, FreedBytes = unused.Sum(i => i.FilesystemBytes) };
        foreach (var image in unused)
        {
            if (!request.DryRun)
            {
                state.Images.TryRemove(image.Digest, out _);
            }

            response.Removed.Add(image.Clone());
        }

        return Task.FromResult(response);
    }

    public override async Task<ImportImageResponse> ImportImage(IAsyncStreamReader<ImportImageChunk> requestStream, ServerCallContext context)
    {
        var import = new FakeImport();
        while (await requestStream.MoveNext(context.CancellationToken))
        {
            import.Add(requestStream.Current);
        }

        state.Imports.Enqueue(import);
        var data = import.Data.ToArray();
        var image = ImageFor(import.Ref, DigestOf(data), DateTime.UtcNow);
        image.Source = "import";
        return new ImportImageResponse { Image = image };
    }

    public override Task<ResolveImageResponse> ResolveImage(ResolveImageRequest request, ServerCallContext context)
    {
        state.Log("ResolveImage " + request.Ref);
        if (request.Ref.Contains("missing", StringComparison.Ordinal))
        {
            throw NotFound($"manifest unknown: {request.Ref}");
        }

        var reference = Cleanroom.Oci.ImageReference.Parse(request.Ref);
        var digest = DigestOf(reference.Repository + ":" + (reference.Digest ?? reference.Tag ?? "latest"));
        return Task.FromResult(new ResolveImageResponse { Digest = digest, Repository = reference.Repository, ResolvedRef = reference.Repository + "@" + digest });
    }

    // The real daemon's NOT_FOUND detail: the reason code, then the message.
    private static RpcException NotFound(string message) => new(new Status(StatusCode.NotFound, "image_not_found: " + message));

    private static PullImageEvent Progress(PullPhase phase, string digest, double fraction, bool applied)
    {
        var update = new PullImageEvent { Phase = phase, Digest = digest };
        for (var i = 0; i < FreshLayerSizes.Length; i++)
        {
            var size = FreshLayerSizes[i];
            update.Layers.Add(new LayerPullProgress { Digest = DigestOf(digest + i), SizeBytes = size, DownloadedBytes = (long)(size * fraction), Applied = applied });
        }

        return update;
    }
}
