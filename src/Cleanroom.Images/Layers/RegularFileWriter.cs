using Microsoft.Win32.SafeHandles;

namespace Cleanroom.Images.Layers;

/// <summary>
/// Copies regular-file data from the tar into a new file through one reusable 1 MiB buffer, charging the budget
/// before each chunk is written and checking for cancellation between chunks. Blocks of zeros are skipped, leaving holes: images carry large zero-filled files
/// (databases, disk images) that would otherwise cost real disk while staging.
/// </summary>
internal sealed class RegularFileWriter(UnpackBudget budget)
{
    private const int ChunkBytes = 1 << 20;
    private const int BlockBytes = 4096;

    private readonly byte[] _buffer = GC.AllocateUninitializedArray<byte>(ChunkBytes);

    public void Copy(SafeFileHandle file, Stream? data, long length, CancellationToken cancellationToken)
    {
        long offset = 0;
        var endsInHole = false;
        while (offset < length)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var chunk = _buffer.AsSpan(0, (int)Math.Min(ChunkBytes, length - offset));
            if (data is null || ReadChunk(data, chunk) < chunk.Length)
            {
                throw new ArchiveCorruptException("an entry's data ends before its declared size");
            }

            budget.Charge(chunk.Length);
            endsInHole = WriteSkippingZeroBlocks(file, chunk, offset);
            offset += chunk.Length;
        }

        if (endsInHole)
        {
            // Skipped trailing blocks were never written; the file must still have its full length.
            RandomAccess.SetLength(file, length);
        }
    }

    /// <summary>
    /// Reads past the data of an entry that is not materialised (a whiteout or AUFS file that carries data). TarReader
    /// would skip it by itself, but without the budget or cancellation, so a whiteout could hide a decompression bomb.
    /// </summary>
    public void Discard(Stream data, long length, CancellationToken cancellationToken)
    {
        budget.EnsureRoom(length);
        for (long offset = 0; offset < length;)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var chunk = _buffer.AsSpan(0, (int)Math.Min(ChunkBytes, length - offset));
            if (ReadChunk(data, chunk) < chunk.Length)
            {
                throw new ArchiveCorruptException("an entry's data ends before its declared size");
            }

            budget.Charge(chunk.Length);
            offset += chunk.Length;
        }
    }

    private static int ReadChunk(Stream data, Span<byte> chunk)
    {
        try
        {
            return data.ReadAtLeast(chunk, chunk.Length, throwOnEndOfStream: false);
        }
        catch (Exception ex) when (ArchiveCorruptException.IsReadFailure(ex))
        {
            throw new ArchiveCorruptException(ex.Message, ex);
        }
    }

    /// <summary>Writes the runs of non-zero blocks of <paramref name="chunk"/>; returns whether its last block was skipped.</summary>
    private static bool WriteSkippingZeroBlocks(SafeFileHandle file, ReadOnlySpan<byte> chunk, long fileOffset)
    {
        var runStart = -1;
        var lastSkipped = false;
        for (var block = 0; block < chunk.Length; block += BlockBytes)
        {
            var isZero = !chunk.Slice(block, Math.Min(BlockBytes, chunk.Length - block)).ContainsAnyExcept((byte)0);
            if (!isZero && runStart < 0)
            {
                runStart = block;
            }
            else if (isZero && runStart >= 0)
            {
                RandomAccess.Write(file, chunk[runStart..block], fileOffset + runStart);
                runStart = -1;
            }

            lastSkipped = isZero;
        }

        if (runStart >= 0)
        {
            RandomAccess.Write(file, chunk[runStart..], fileOffset + runStart);
        }

        return lastSkipped;
    }
}
