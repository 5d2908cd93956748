namespace Cleanroom.Workspaces.Repositories;

/// <summary>
/// Bytes of the files under a directory, in process: it is polled several times a second while a fetch runs, where
/// starting <c>du</c> each time would cost more than the walk. A bare repository holds few files (packs, refs).
/// </summary>
internal static class DirectorySize
{
    /// <summary>Sum of file lengths; files that vanish or cannot be read mid-walk (git renames as it goes) count as 0.</summary>
    public static long Of(string directory)
    {
        if (!Directory.Exists(directory))
        {
            return 0;
        }

        long total = 0;
        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = 0 };
        try
        {
            foreach (var file in new DirectoryInfo(directory).EnumerateFiles("*", options))
            {
                try
                {
                    total += file.Length;
                }
                catch (IOException)
                {
                    // Renamed or deleted since it was listed.
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The directory itself went away (a failed clone being removed): what was counted stands.
        }

        return total;
    }
}
