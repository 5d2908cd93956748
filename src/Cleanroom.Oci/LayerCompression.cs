namespace Cleanroom.Oci;

/// <summary>How a layer's tar stream is compressed inside its blob.</summary>
public enum LayerCompression
{
    None,
    Gzip,
    Zstd,
}
