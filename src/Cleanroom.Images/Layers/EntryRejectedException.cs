namespace Cleanroom.Images.Layers;

/// <summary>
/// Raised deep inside entry handling (path parsing, resolution, limits), where the layer and entry names are not at
/// hand; <see cref="LayerApplier"/> turns it into a <see cref="LayerRejectedException"/> that names both.
/// </summary>
/// <param name="reason">A predicate about the entry, e.g. "has a path that climbs out of the image root with '..'".</param>
/// <param name="aboutLayer">True when the reason reads as a statement about the layer (the limits), not the entry.</param>
internal sealed class EntryRejectedException(string reason, bool aboutLayer = false) : Exception(reason)
{
    public bool AboutLayer { get; } = aboutLayer;
}
