using System.Runtime.InteropServices;
using Cleanroom.Escaping;
using Cleanroom.GuestAgent.Native;

namespace Cleanroom.GuestAgent.Tools;

/// <summary>The entries of one directory, sorted by name (ordinal), so archives come out the same every time.</summary>
internal static unsafe class DirectoryListing
{
    /// <summary>
    /// The directory's children, hidden ones included, each with its lstat. Read with readdir, not .NET: .NET
    /// decodes names lossily (U+FFFD), while <see cref="FileNameBytes.Decode"/> keeps every byte, so a name that is
    /// not valid UTF-8 still leads back to its file. A child that goes away between the listing and its lstat is
    /// left out; any other lstat failure (permission, a name too long) fails the listing rather than leaving the
    /// child silently out of an archive.
    /// </summary>
    public static List<Child> Children(string directory)
    {
        var children = new List<Child>();
        foreach (var name in Names(directory))
        {
            var fullPath = Join(directory, name);
            if (FileStatus.TryGet(fullPath, out var errno) is { } status)
            {
                children.Add(new Child(fullPath, name, status));
            }
            else if (errno != Errno.ENOENT)
            {
                throw ToolException.FromErrno(errno, "lstat", fullPath);
            }
        }

        children.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return children;
    }

    /// <summary>The names readdir gives (without <c>.</c> and <c>..</c>), in its order.</summary>
    private static List<string> Names(string directory)
    {
        var stream = LibC.OpenDir(directory);
        if (stream == 0)
        {
            throw ToolException.FromErrno(Errno.Last, "opendir", directory);
        }

        try
        {
            var names = new List<string>();
            while (true)
            {
                var entry = LibC.ReadDir(stream);
                if (entry is null)
                {
                    // readdir says "the end" and "an error" both with NULL; only errno tells them apart.
                    var errno = Errno.Last;
                    return errno == 0 ? names : throw ToolException.FromErrno(errno, "readdir", directory);
                }

                var raw = MemoryMarshal.CreateReadOnlySpanFromNullTerminated((byte*)entry + LibC.Dirent.NameOffset);
                if (raw is not [(byte)'.'] and not [(byte)'.', (byte)'.'])
                {
                    names.Add(FileNameBytes.Decode(raw));
                }
            }
        }
        finally
        {
            LibC.CloseDir(stream);
        }
    }

    private static string Join(string directory, string name) =>
        directory.EndsWith('/') ? directory + name : directory + "/" + name;

    /// <summary>One directory entry and its lstat.</summary>
    internal sealed record Child(string FullPath, string Name, FileStatus Status);
}
