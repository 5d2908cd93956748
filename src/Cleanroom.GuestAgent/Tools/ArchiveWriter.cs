using System.Formats.Tar;

namespace Cleanroom.GuestAgent.Tools;

/// <summary>
/// Writes file-system entries into a PAX tar stream: numeric uid/gid (no user-name lookups, which in a static
/// binary would load NSS modules), all 12 mode bits, nanosecond-ish mtimes, symlink targets verbatim, and a file
/// seen again through another hard link as a HardLink entry. Content is streamed, never held in memory.
/// </summary>
internal sealed class ArchiveWriter : IDisposable
{
    private readonly TarWriter _writer;
    private readonly TextWriter _error;
    private readonly Dictionary<(ulong Device, ulong Inode), string> _firstNames = [];

    public ArchiveWriter(Stream output, TextWriter error)
    {
        _writer = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true);
        _error = error;
    }

    /// <summary>How many entries could not be archived (each reported on stderr); the tool then exits 1.</summary>
    public int Failures { get; private set; }

    /// <summary>
    /// Writes <paramref name="fullPath"/> as <paramref name="entryName"/> and, for a directory, everything below it
    /// whose entry name <paramref name="excluded"/> does not reject. An empty entry name writes only the contents.
    /// </summary>
    public void WriteTree(string fullPath, string entryName, FileStatus status, Func<string, bool> excluded)
    {
        if (entryName.Length > 0)
        {
            Write(fullPath, entryName, status);
        }

        if (status.Type != FileType.Directory)
        {
            return;
        }

        foreach (var child in DirectoryListing.Children(fullPath))
        {
            var childName = entryName.Length == 0 ? child.Name : entryName + "/" + child.Name;
            if (excluded(childName))
            {
                continue;
            }

            if (child.Status is not { } childStatus)
            {
                ReportNotUtf8(child.FullPath);
                continue;
            }

            WriteTree(child.FullPath, childName, childStatus, excluded);
        }
    }

    /// <summary>Writes one entry (not a directory's contents). Sockets, FIFOs and devices are skipped with a warning.</summary>
    public void Write(string fullPath, string entryName, FileStatus status)
    {
        switch (status.Type)
        {
            case FileType.Directory:
                _writer.WriteEntry(Entry(TarEntryType.Directory, entryName, status));
                break;
            case FileType.Symlink:
                var link = Entry(TarEntryType.SymbolicLink, entryName, status);
                link.LinkName = FileOps.ReadLink(fullPath);
                _writer.WriteEntry(link);
                break;
            case FileType.Regular:
                WriteFile(fullPath, entryName, status);
                break;
            default:
                _error.WriteLine($"warning: skipping {fullPath}: a {Describe(status.Type)} cannot be copied");
                break;
        }
    }

    /// <summary>An empty regular file entry (the whiteout markers of an OCI layer), with the given entry's times.</summary>
    public void WriteMarker(string entryName, FileStatus like)
    {
        var entry = Entry(TarEntryType.RegularFile, entryName, like);
        entry.Mode = (UnixFileMode)0x1A4; // 0644
        _writer.WriteEntry(entry);
    }

    /// <summary>Counts and reports an entry whose name cannot be represented.</summary>
    public void ReportNotUtf8(string fullPath)
    {
        Failures++;
        _error.WriteLine($"cannot archive {fullPath}: {DirectoryListing.NotUtf8}");
    }

    /// <summary>Writes the end-of-archive marker.</summary>
    public void Dispose() => _writer.Dispose();

    private static PaxTarEntry Entry(TarEntryType type, string name, FileStatus status) => new(type, name)
    {
        Mode = (UnixFileMode)status.Permissions,
        ModificationTime = status.ModificationTime,
        Uid = (int)status.Uid,
        Gid = (int)status.Gid,
    };

    private static string Describe(FileType type) => type switch
    {
        FileType.CharacterDevice => "character device",
        FileType.BlockDevice => "block device",
        FileType.Fifo => "FIFO",
        FileType.Socket => "socket",
        _ => "file of unknown type",
    };

    private void WriteFile(string fullPath, string entryName, FileStatus status)
    {
        if (status.Links > 1)
        {
            if (_firstNames.TryGetValue((status.Device, status.Inode), out var first))
            {
                var hardLink = Entry(TarEntryType.HardLink, entryName, status);
                hardLink.LinkName = first;
                _writer.WriteEntry(hardLink);
                return;
            }

            _firstNames.Add((status.Device, status.Inode), entryName);
        }

        var entry = Entry(TarEntryType.RegularFile, entryName, status);
        var file = new FileStream(fullPath, new FileStreamOptions
        {
            Mode = FileMode.Open,
            Access = FileAccess.Read,
            Share = FileShare.ReadWrite | FileShare.Delete,
            BufferSize = 0,
        });
        using var content = new FixedLengthStream(file, status.Size);
        entry.DataStream = content;
        _writer.WriteEntry(entry);
    }
}
