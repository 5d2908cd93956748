using System.Formats.Tar;
using System.IO.Compression;
using Cleanroom.Oci;
using ZstdSharp;

namespace Cleanroom.Images.Layers;

/// <summary>
/// The entries of one layer blob: decompressed as its media type says, read forward only, with every way a damaged
/// stream can fail turned into <see cref="ArchiveCorruptException"/>. The blob itself stays open; it is the caller's.
/// </summary>
internal sealed class LayerTarReader : IDisposable
{
    private readonly Stream? _decompressor;
    private readonly ForwardOnlyStream _input;
    private readonly TarReader _reader;

    public LayerTarReader(Stream blob, LayerCompression compression)
    {
        _decompressor = compression switch
        {
            LayerCompression.None => null,
            LayerCompression.Gzip => new GZipStream(blob, CompressionMode.Decompress, leaveOpen: true),
            // checkEndOfStream: a frame cut short is an error, not a quiet end of data.
            LayerCompression.Zstd => new DecompressionStream(blob, checkEndOfStream: true, leaveOpen: true),
            _ => throw new ArgumentOutOfRangeException(nameof(compression), compression, "unknown layer compression"),
        };
        _input = new ForwardOnlyStream(_decompressor ?? blob);
        _reader = new TarReader(_input, leaveOpen: true);
    }

    /// <summary>
    /// The next entry, or null after the end-of-archive marker. Its data must be read before the next call. Whatever
    /// follows the marker (block padding, garbage) is never read.
    /// </summary>
    public TarEntry? Next()
    {
        TarEntry? entry;
        try
        {
            entry = _reader.GetNextEntry(copyData: false);
        }
        catch (Exception ex) when (ArchiveCorruptException.IsReadFailure(ex))
        {
            throw new ArchiveCorruptException(ex.Message, ex);
        }

        // TarReader itself fails on a stream that stops where a header should be; this keeps that guarantee should
        // it ever treat a bare end of data as the end of the archive. Gzip cut short just ends early, so this and
        // the reader's own checks are what catch a truncated gzip layer.
        return entry is null && _input.ReachedEnd
            ? throw new ArchiveCorruptException("the tar stream ends without its end-of-archive marker")
            : entry;
    }

    public void Dispose()
    {
        _reader.Dispose();
        _input.Dispose();
        _decompressor?.Dispose();
    }
}
