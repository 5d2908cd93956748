using Cleanroom.Oci;

namespace Cleanroom.Images.Archive;

/// <summary>A verified layer blob unpacked from an import archive.</summary>
public sealed record ArchiveLayer(string Name, LayerCompression Compression, string Path);
