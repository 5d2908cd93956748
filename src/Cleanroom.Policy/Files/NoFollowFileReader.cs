using System.Runtime.Versioning;
using Microsoft.Win32.SafeHandles;

namespace Cleanroom.Policy.Files;

/// <summary>
/// Reads a file below a trusted directory without following any symbolic link on the way and without blocking.
/// Each directory is opened relative to the previous one with <c>O_NOFOLLOW</c>, so a link anywhere below the base
/// (<c>.buildkite -> /etc</c>) fails the open instead of leading elsewhere. The file itself is looked at before it
/// is opened (a FIFO or a device is never opened at all), opened with <c>O_NOFOLLOW | O_NONBLOCK</c>, and looked at
/// again through the open descriptor: it must still be the same regular file, so a swap in between is caught.
/// </summary>
[SupportedOSPlatform("linux")]
internal static class NoFollowFileReader
{
    /// <summary>Reads <paramref name="components"/> (directories, then the file) below <paramref name="baseDirectory"/>.</summary>
    public static FileReadResult Read(string baseDirectory, IReadOnlyList<string> components, int maxBytes)
    {
        var opened = new List<SafeFileHandle>();
        try
        {
            var directory = LinuxFileCalls.OpenTrustedDirectory(baseDirectory, out var errno);
            opened.Add(directory);
            if (directory.IsInvalid)
            {
                return new FileReadResult.Failed(-1, LinuxFileCalls.Describe(errno));
            }

            for (var index = 0; index < components.Count - 1; index++)
            {
                var next = LinuxFileCalls.OpenDirectoryNoFollow(directory, components[index], out errno);
                opened.Add(next);
                if (next.IsInvalid)
                {
                    return Explain(directory, components[index], index, errno);
                }

                directory = next;
            }

            return ReadFile(directory, components[^1], components.Count - 1, maxBytes);
        }
        finally
        {
            foreach (var handle in opened)
            {
                handle.Dispose();
            }
        }
    }

    private static FileReadResult ReadFile(SafeFileHandle directory, string name, int index, int maxBytes)
    {
        if (LinuxFileCalls.StatNoFollow(directory, name, out var errno) is not { } before)
        {
            return new FileReadResult.Failed(index, LinuxFileCalls.Describe(errno));
        }

        if (before.Kind != FileNodeKind.RegularFile)
        {
            return new FileReadResult.Refused(index, before.Kind);
        }

        using var file = LinuxFileCalls.OpenFileNoFollow(directory, name, out errno);
        if (file.IsInvalid)
        {
            // ELOOP: it became a link after it was looked at.
            return errno == LinuxFileCalls.ELOOP
                ? new FileReadResult.Refused(index, FileNodeKind.SymbolicLink)
                : new FileReadResult.Failed(index, LinuxFileCalls.Describe(errno));
        }

        if (LinuxFileCalls.StatOpen(file, out errno) is not { } now)
        {
            return new FileReadResult.Failed(index, LinuxFileCalls.Describe(errno));
        }

        if (now.Kind != FileNodeKind.RegularFile || !now.IsSameFileAs(before))
        {
            return now.Kind != FileNodeKind.RegularFile
                ? new FileReadResult.Refused(index, now.Kind)
                : new FileReadResult.Failed(index, "it was replaced while it was being opened");
        }

        if (now.Size > maxBytes)
        {
            return new FileReadResult.TooLarge(now.Size);
        }

        // The file can grow after the look: reading goes on to the end, but never more than one byte past the limit.
        var buffer = new byte[now.Size + 1];
        var total = 0;
        while (true)
        {
            if (total == buffer.Length)
            {
                if (buffer.Length > maxBytes)
                {
                    return new FileReadResult.TooLarge(total);
                }

                Array.Resize(ref buffer, maxBytes + 1);
            }

            var count = RandomAccess.Read(file, buffer.AsSpan(total), total);
            if (count == 0)
            {
                return new FileReadResult.Read(buffer[..total]);
            }

            total += count;
        }
    }

    /// <summary>Why a directory component did not open: a link or another kind of entry, or the system's reason.</summary>
    private static FileReadResult Explain(SafeFileHandle parent, string name, int index, int errno)
    {
        if (LinuxFileCalls.StatNoFollow(parent, name, out _) is { Kind: not FileNodeKind.Directory } node)
        {
            return new FileReadResult.Refused(index, node.Kind);
        }

        return new FileReadResult.Failed(index, LinuxFileCalls.Describe(errno));
    }
}
