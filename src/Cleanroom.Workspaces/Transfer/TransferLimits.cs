namespace Cleanroom.Workspaces.Transfer;

/// <summary>
/// Bounds on an archive that comes out of a sandbox (its changes, or <c>cp</c>). The guest is hostile: these are
/// checked while the bytes stream, so a tar bomb stops at the limit with a clear error, not when the disk is full.
/// </summary>
public sealed record TransferLimits
{
    /// <summary>Total regular-file bytes in the archive.</summary>
    public long MaxBytes { get; init; } = 4L << 30;

    /// <summary>Tar entries in the archive, whiteouts and directories included.</summary>
    public long MaxEntries { get; init; } = 200_000;

    /// <summary>Bytes of any one file.</summary>
    public long MaxFileBytes { get; init; } = 2L << 30;

    /// <summary>Components of any one path (a path is also bounded to 4,096 bytes and 255 bytes per name).</summary>
    public int MaxPathDepth { get; init; } = 256;

    /// <summary>The defaults.</summary>
    public static TransferLimits Default { get; } = new();
}
