using Cleanroom.Oci;

namespace Cleanroom.TestSupport;

/// <summary>A layer of a <see cref="BuiltImage"/>: the (compressed) blob and the digest of its uncompressed tar.</summary>
public sealed record BuiltLayer(ImageBlob Blob, Digest DiffId, LayerCompression Compression)
{
    public Descriptor Descriptor => Blob.Descriptor;
}
