namespace Cleanroom.Images.Layers;

/// <summary>
/// The compressed stream or the tar inside it cannot be read to its end. Decompressors and TarReader signal this with
/// a handful of unrelated exception types; they are gathered here so none of them reaches the user raw.
/// </summary>
internal sealed class ArchiveCorruptException(string detail, Exception? innerException = null) : Exception(detail, innerException)
{
    /// <summary>The stream is readable but uses a tar feature TarReader does not implement (GNU sparse files).</summary>
    public bool IsUnsupportedFeature => InnerException is NotSupportedException;

    /// <summary>
    /// True for the exceptions that reading hostile or damaged layer bytes produces. Only reads are wrapped with this,
    /// so a plain <see cref="IOException"/> (a failing disk) is not mistaken for a bad layer.
    /// </summary>
    public static bool IsReadFailure(Exception exception) => exception is InvalidDataException
        or EndOfStreamException
        or FormatException
        or OverflowException
        or ArgumentException
        // TarReader reports an oversized metadata block (a PAX or GNU long-name header) this way.
        or InvalidOperationException
        or NotSupportedException
        or ZstdSharp.ZstdException;
}
