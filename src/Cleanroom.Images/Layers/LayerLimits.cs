namespace Cleanroom.Images.Layers;

/// <summary>
/// Bounds on what one image may unpack to. Both are cumulative over every layer of the image, so a hostile image
/// cannot escape them by spreading its content over many layers.
/// </summary>
public sealed record LayerLimits
{
    /// <summary>
    /// Total regular-file bytes across all layers of one image, counted as they are read (files later deleted or
    /// overwritten still count, and so does data that whiteout entries carry, since it must be decompressed too).
    /// </summary>
    public long MaxUnpackedBytes { get; init; } = 16L << 30;

    /// <summary>Total tar entries across all layers, whiteouts included; bounds inode use and time spent.</summary>
    public long MaxEntries { get; init; } = 1_000_000;

    public static LayerLimits Default { get; } = new();
}
