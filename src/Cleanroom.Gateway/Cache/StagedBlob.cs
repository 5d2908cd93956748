namespace Cleanroom.Gateway.Cache;

/// <summary>
/// Content hashed and fsynced into a temp file inside the store, not yet visible under its digest. Committing renames
/// it into place; disposing an uncommitted one deletes the temp file, so no path leaves a partial file behind.
/// </summary>
public sealed class StagedBlob : IDisposable
{
    internal StagedBlob(string tempPath, BlobDigest digest, long size)
    {
        TempPath = tempPath;
        Digest = digest;
        Size = size;
    }

    /// <summary>The digest of the staged bytes.</summary>
    public BlobDigest Digest { get; }

    /// <summary>The number of staged bytes.</summary>
    public long Size { get; }

    /// <summary>Where the bytes wait; empty once committed or disposed.</summary>
    internal string TempPath { get; private set; }

    /// <summary>Marks the temp file as moved, so disposing leaves it alone.</summary>
    internal void MarkCommitted() => TempPath = "";

    /// <summary>Deletes the temp file unless it was committed.</summary>
    public void Dispose()
    {
        if (TempPath.Length > 0)
        {
            BlobStore.DeleteQuietly(TempPath);
            TempPath = "";
        }
    }
}
