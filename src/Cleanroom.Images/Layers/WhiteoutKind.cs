namespace Cleanroom.Images.Layers;

/// <summary>How an entry's name marks it as an OCI whiteout rather than content.</summary>
internal enum WhiteoutKind
{
    /// <summary>Ordinary content.</summary>
    None,

    /// <summary>"dir/.wh.NAME": dir/NAME from lower layers is deleted.</summary>
    Remove,

    /// <summary>"dir/.wh..wh..opq": none of dir's children from lower layers remain.</summary>
    Opaque,

    /// <summary>Other ".wh..wh." names: AUFS bookkeeping, never part of the image.</summary>
    Ignored,
}
