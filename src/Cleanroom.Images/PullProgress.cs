namespace Cleanroom.Images;

/// <summary>Where a pull is.</summary>
public enum PullPhase
{
    Resolving,
    Downloading,
    Building,
    Done,
}

/// <summary>One layer's download progress.</summary>
public sealed record LayerProgress(string Digest, long Size, long Downloaded, bool Applied);

/// <summary>A snapshot of a pull, for progress bars. Immutable; a new one is taken each time it is asked for.</summary>
public sealed record PullProgress(PullPhase Phase, string Digest, IReadOnlyList<LayerProgress> Layers)
{
    public long TotalBytes => Layers.Sum(l => l.Size);

    public long DownloadedBytes => Layers.Sum(l => l.Downloaded);
}
