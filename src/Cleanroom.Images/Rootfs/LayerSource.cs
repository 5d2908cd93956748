using Cleanroom.Oci;

namespace Cleanroom.Images.Rootfs;

/// <summary>
/// One layer to apply: its compression, and a task that yields the verified blob's path (a download still running,
/// or a file already on disk). Layers are applied strictly in order while later ones may still be downloading.
/// </summary>
public sealed record LayerSource(string Name, LayerCompression Compression, Task<string> BlobPath);
