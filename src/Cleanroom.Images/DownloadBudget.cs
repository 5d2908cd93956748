using Cleanroom.Oci;

namespace Cleanroom.Images;

/// <summary>
/// Checks what a manifest (or an index entry) declares against <see cref="DownloadLimits"/> before anything it names
/// is fetched. Sizes are the registry's claims; the downloads enforce them byte by byte afterwards.
/// </summary>
internal static class DownloadBudget
{
    /// <summary>Refuses an index entry whose manifest is declared larger than a manifest may be.</summary>
    public static void CheckIndexEntry(ImageReference image, Descriptor entry)
    {
        if (entry.Size > ManifestDocument.MaxBytes)
        {
            throw new ImageTooLargeException("ManifestDocument.MaxBytes",
                $"{image}: the index entry {entry.Digest} declares a {entry.Size}-byte manifest; manifests are limited to {ManifestDocument.MaxBytes} bytes");
        }
    }

    /// <summary>
    /// Refuses an image manifest whose config or layers, one by one or together, pass the limits. Returns the sum of
    /// the declared layer sizes.
    /// </summary>
    public static long CheckManifest(ImageReference image, ImageManifest manifest, DownloadLimits limits, long maxUnpackedBytes)
    {
        var config = manifest.Config!;
        var maxConfig = Math.Min(limits.MaxConfigBytes, ImageConfigDocument.MaxBytes);
        if (config.Size > maxConfig)
        {
            throw new ImageTooLargeException(nameof(DownloadLimits.MaxConfigBytes),
                $"{image}: the config blob {config.Digest} declares {config.Size} bytes; the limit (MaxConfigBytes) is {maxConfig}");
        }

        var layers = manifest.Layers!;
        var layerBytes = 0L;
        for (var i = 0; i < layers.Count; i++)
        {
            var layer = layers[i];
            if (layer.Size > limits.MaxLayerBytes)
            {
                throw new ImageTooLargeException(nameof(DownloadLimits.MaxLayerBytes),
                    $"{image}: layer {i + 1}/{layers.Count} ({layer.Digest}) declares {layer.Size} bytes; the per-layer limit (MaxLayerBytes) is {limits.MaxLayerBytes}");
            }

            // Each term is at most MaxLayerBytes (a long), and there are at most ManifestDocument.MaxLayers of them,
            // but a configured limit could be near long.MaxValue: saturate rather than wrap.
            layerBytes = layerBytes > long.MaxValue - layer.Size ? long.MaxValue : layerBytes + layer.Size;
        }

        var total = layerBytes > long.MaxValue - config.Size ? long.MaxValue : layerBytes + config.Size;

        var maxTotal = limits.MaxTotalBytes ?? maxUnpackedBytes;
        if (total > maxTotal)
        {
            throw new ImageTooLargeException(nameof(DownloadLimits.MaxTotalBytes),
                $"{image}: its {layers.Count} layers and config declare {total} bytes together; the limit for one image's download (MaxTotalBytes) is {maxTotal}");
        }

        return layerBytes;
    }
}
