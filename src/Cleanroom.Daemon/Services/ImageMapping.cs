using Cleanroom.Api.V1;
using Cleanroom.Images;
using Google.Protobuf.WellKnownTypes;

namespace Cleanroom.Daemon.Services;

/// <summary>Image store records to their wire form.</summary>
internal static class ImageMapping
{
    public static Image ToProto(this ImageRecord image)
    {
        var defaults = new ImageRunDefaults { WorkingDir = image.Defaults.WorkingDir ?? "", User = image.Defaults.User ?? "" };
        defaults.Env.AddRange(image.Defaults.Env ?? []);
        defaults.Entrypoint.AddRange(image.Defaults.Entrypoint ?? []);
        defaults.Cmd.AddRange(image.Defaults.Cmd ?? []);
        var proto = new Image
        {
            Digest = image.Digest.ToString(),
            ContentBytes = image.ContentBytes,
            FilesystemBytes = image.FilesystemBytes,
            CreatedAt = Timestamp.FromDateTimeOffset(image.CreatedAt),
            LastUsedAt = Timestamp.FromDateTimeOffset(image.LastUsedAt),
            Source = image.Source,
            Platform = image.Platform,
            RootfsPath = image.RootfsPath,
            Defaults = defaults,
        };
        proto.Refs.AddRange(image.Refs);
        return proto;
    }

    public static PullImageEvent ToProto(this PullProgress progress)
    {
        var message = new PullImageEvent
        {
            Phase = progress.Phase switch
            {
                Images.PullPhase.Downloading => Api.V1.PullPhase.Downloading,
                Images.PullPhase.Building => Api.V1.PullPhase.Building,
                _ => Api.V1.PullPhase.Done,
            },
            Digest = progress.Digest,
        };
        message.Layers.AddRange(progress.Layers.Select(l => new LayerPullProgress { Digest = l.Digest, SizeBytes = l.Size, DownloadedBytes = l.Downloaded, Applied = l.Applied }));
        return message;
    }
}
