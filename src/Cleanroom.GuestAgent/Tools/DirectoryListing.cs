namespace Cleanroom.GuestAgent.Tools;

/// <summary>The entries of one directory, sorted by name (ordinal), so archives come out the same every time.</summary>
internal static class DirectoryListing
{
    /// <summary>Why a child marked <see cref="Child.NotUtf8"/> cannot be handled.</summary>
    public const string NotUtf8 = "the file name is not valid UTF-8 (its raw bytes cannot be represented; the U+FFFD shows where)";

    /// <summary>Every entry, hidden ones included (.NET skips names starting with a dot by default).</summary>
    private static readonly EnumerationOptions Everything = new()
    {
        AttributesToSkip = 0,
        IgnoreInaccessible = false,
        RecurseSubdirectories = false,
        ReturnSpecialDirectories = false,
    };

    /// <summary>
    /// The directory's children. .NET decodes names as UTF-8 and turns invalid bytes into U+FFFD, so such a name
    /// no longer leads back to its file: a child whose lstat then fails and whose name holds U+FFFD is reported as
    /// <see cref="Child.NotUtf8"/> instead of being silently renamed.
    /// </summary>
    public static List<Child> Children(string directory)
    {
        var children = new List<Child>();
        foreach (var fullPath in Directory.EnumerateFileSystemEntries(directory, "*", Everything))
        {
            var name = Path.GetFileName(fullPath);
            var status = FileStatus.TryGet(fullPath, out var errno);
            if (status is null && errno != 0 && !name.Contains('\uFFFD', StringComparison.Ordinal))
            {
                // It went away between the listing and the lstat: nothing to report.
                continue;
            }

            children.Add(new Child(fullPath, name, status));
        }

        children.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return children;
    }

    /// <summary>One directory entry; <see cref="Status"/> is null when the name is not valid UTF-8.</summary>
    internal sealed record Child(string FullPath, string Name, FileStatus? Status)
    {
        public bool NotUtf8 => Status is null;
    }
}
