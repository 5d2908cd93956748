namespace Cleanroom.Images;

/// <summary>What <see cref="ImageManager.Prune"/> removed (or would have), and the file-system bytes that frees.</summary>
public sealed record PruneResult(IReadOnlyList<ImageRecord> Removed, long FreedBytes, bool DryRun);
