namespace Cleanroom.Images.Layers;

/// <summary>
/// A layer was refused: it is corrupt, too large, or tries something an image layer may not do (leave the image root,
/// use an unsupported entry type). The message is meant for the user and names the layer and, when there is one, the entry.
/// </summary>
public sealed class LayerRejectedException(string layerName, string? entryName, string message, Exception? innerException = null)
    : Exception(message, innerException)
{
    /// <summary>The layer as the caller named it (usually its digest).</summary>
    public string LayerName { get; } = layerName;

    /// <summary>
    /// The tar entry that was refused, exactly as the layer spelled it; for a damaged stream, the last entry read before
    /// the damage. Null when there is none.
    /// </summary>
    public string? EntryName { get; } = entryName;
}
