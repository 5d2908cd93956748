namespace Cleanroom.Workspaces.Transfer;

/// <summary>
/// Reads a changes stream to its very end after the tar reader saw the end-of-archive marker. A tar that ends well
/// can still come from a guest tool that failed halfway (its writer closes the archive on the way out); the stream's
/// own end is where that failure arrives (the RPC's status, passed on as the stream's error). A copy-out that plans
/// before then could act on a cut-short list of changes, and treating a missing path as deleted would delete local
/// files.
/// </summary>
internal static class ArchiveEnd
{
    /// <summary>Trailing bytes allowed after the marker: tar pads to a 10 KiB record; anything near this is not padding.</summary>
    public const int MaxTrailingBytes = 1 << 20;

    /// <summary>Reads <paramref name="stream"/> to its end; throws what the stream throws, or RejectedArchive past the bound.</summary>
    /// <param name="archiveName">How messages name the archive.</param>
    public static async Task DrainAsync(Stream stream, string archiveName, CancellationToken ct)
    {
        var buffer = new byte[64 * 1024];
        long total = 0;
        int read;
        while ((read = await stream.ReadAsync(buffer, ct)) > 0)
        {
            total += read;
            if (total > MaxTrailingBytes)
            {
                throw new WorkspaceException(
                    WorkspaceErrorKind.RejectedArchive,
                    $"{archiveName} was refused: more than {MaxTrailingBytes:N0} bytes follow its end-of-archive marker");
            }
        }
    }
}
