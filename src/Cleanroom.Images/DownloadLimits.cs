namespace Cleanroom.Images;

/// <summary>
/// Bounds on what one pull may download. A manifest's descriptors declare every blob's size, and downloads never read
/// past a declared size, so these are checked against the descriptors before the first blob is requested: a registry
/// that announces a terabyte layer is refused without a byte of it being fetched.
/// </summary>
public sealed record DownloadLimits
{
    /// <summary>The largest compressed layer blob accepted.</summary>
    public long MaxLayerBytes { get; init; } = 8L << 30;

    /// <summary>
    /// The largest sum of the layer blobs and the config blob of one image. Null means the image's unpack limit
    /// (<see cref="Layers.LayerLimits.MaxUnpackedBytes"/>): a download that alone passes it could not succeed anyway.
    /// </summary>
    public long? MaxTotalBytes { get; init; }

    /// <summary>The largest image config blob accepted; real configs are a few KiB, with history tens of KiB.</summary>
    public int MaxConfigBytes { get; init; } = 4 << 20;

    public static DownloadLimits Default { get; } = new();
}
