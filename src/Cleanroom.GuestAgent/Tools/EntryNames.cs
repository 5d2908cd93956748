namespace Cleanroom.GuestAgent.Tools;

/// <summary>Tar entry names as the extractor accepts them: relative, <c>/</c>-separated, never climbing out.</summary>
internal static class EntryNames
{
    /// <summary>
    /// The name with empty and <c>.</c> components dropped (<c>./a//b/</c> is <c>a/b</c>; <c>./</c> is the empty
    /// name, the target directory itself), or null when it is absolute or has a <c>..</c> component or a NUL.
    /// </summary>
    public static string? Normalize(string name)
    {
        if (name.Length == 0 || name.StartsWith('/') || name.Contains('\0', StringComparison.Ordinal))
        {
            return null;
        }

        var parts = new List<string>();
        foreach (var part in name.Split('/'))
        {
            if (part == "..")
            {
                return null;
            }

            if (part.Length > 0 && part != ".")
            {
                parts.Add(part);
            }
        }

        return string.Join('/', parts);
    }

    /// <summary>The directory part of a normalized name (empty at the top).</summary>
    public static string Parent(string name)
    {
        var slash = name.LastIndexOf('/');
        return slash < 0 ? "" : name[..slash];
    }

    /// <summary>The last component of a normalized name.</summary>
    public static string Leaf(string name) => name[(name.LastIndexOf('/') + 1)..];

    /// <summary>Joins a normalized directory name and a child name.</summary>
    public static string Join(string directory, string name) => directory.Length == 0 ? name : directory + "/" + name;
}
