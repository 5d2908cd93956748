namespace Cleanroom.Cli.Images;

/// <summary>
/// Replaces a file's content all at once: the new bytes go to a temporary file in the same directory (same file
/// system, same mode), which is checked and then renamed over the original. A reader sees the old file or the new
/// one, never half of either, and a failed check leaves the original untouched.
/// </summary>
internal static class AtomicFile
{
    /// <summary>
    /// Writes <paramref name="content"/> in place of <paramref name="path"/> when <paramref name="accept"/> approves
    /// the temporary file it is given. Returns that verdict. No link is followed: the caller has read
    /// <paramref name="path"/> as a regular file, and the rename replaces the directory entry itself, so even a link
    /// put there since would be replaced, never written through.
    /// </summary>
    public static bool Replace(string path, byte[] content, Func<string, bool> accept)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(accept);
        var target = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(target)!;
        var temporary = Path.Combine(directory, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                if (!OperatingSystem.IsWindows())
                {
                    File.SetUnixFileMode(stream.SafeFileHandle, new FileInfo(target).UnixFileMode);
                }

                stream.Write(content);
                // On disk before the rename, so a crash cannot leave an empty policy behind the new name.
                stream.Flush(flushToDisk: true);
            }

            if (!accept(temporary))
            {
                return false;
            }

            File.Move(temporary, target, overwrite: true);
            return true;
        }
        finally
        {
            File.Delete(temporary);
        }
    }
}
