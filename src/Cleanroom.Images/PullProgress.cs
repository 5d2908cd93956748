namespace Cleanroom.Images;

/// <summary>Where a pull is once its manifest is resolved (resolving itself happens before the pull exists).</summary>
public enum PullPhase
{
    Downloading,
    Building,
    Done,
}

/// <summary>One layer's download progress.</summary>
public sealed record LayerProgress(string Digest, long Size, long Downloaded, bool Applied);

/// <summary>A snapshot of a pull, for progress bars. Immutable; a new one is taken each time it is asked for.</summary>
public sealed record PullProgress(PullPhase Phase, string Digest, IReadOnlyList<LayerProgress> Layers);
