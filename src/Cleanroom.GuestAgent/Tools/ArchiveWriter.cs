using System.Formats.Tar;
using Cleanroom.Escaping;

namespace Cleanroom.GuestAgent.Tools;

/// <summary>
/// Writes file-system entries into a PAX tar stream: numeric uid/gid (no user-name lookups, which in a static
/// binary would load NSS modules), all 12 mode bits, nanosecond-ish mtimes, symlink targets verbatim, and a file
/// seen again through another hard link as a HardLink entry. Content is streamed, never held in memory. A name or
/// link target that is not valid UTF-8 is carried exactly in the <see cref="PaxRawNames"/> vendor records.
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
            if (!excluded(childName))
            {
                WriteTree(child.FullPath, childName, child.Status, excluded);
            }
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
                _writer.WriteEntry(Entry(TarEntryType.SymbolicLink, entryName, status, FileOps.ReadLink(fullPath)));
                break;
            case FileType.Regular:
                WriteFile(fullPath, entryName, status);
                break;
            default:
                _error.WriteLine($"warning: skipping {UntrustedText.Escape(fullPath)}: a {Describe(status.Type)} cannot be copied");
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

    /// <summary>Writes the end-of-archive marker.</summary>
    public void Dispose() => _writer.Dispose();

    private static PaxTarEntry Entry(TarEntryType type, string name, FileStatus status, string? linkName = null)
    {
        var records = PaxRawNames.RecordsFor(name, linkName);
        AddLiteralReplacementCharacter(ref records, PaxRawNames.PathKey, name);
        AddLiteralReplacementCharacter(ref records, PaxRawNames.LinkPathKey, linkName);
        var entry = records is null ? new PaxTarEntry(type, name) : new PaxTarEntry(type, name, records);
        if (linkName is not null)
        {
            entry.LinkName = linkName;
        }

        entry.Mode = (UnixFileMode)status.Permissions;
        entry.ModificationTime = status.ModificationTime;
        entry.Uid = (int)status.Uid;
        entry.Gid = (int)status.Gid;
        return entry;
    }

    /// <summary>
    /// A name that really holds U+FFFD (valid UTF-8) also gets its record: the extractor refuses U+FFFD without one,
    /// since in a foreign tar it marks bytes the tar reader could not decode.
    /// </summary>
    private static void AddLiteralReplacementCharacter(ref Dictionary<string, string>? records, string key, string? name)
    {
        if (name is not null && name.Contains('\uFFFD', StringComparison.Ordinal) && records?.ContainsKey(key) != true)
        {
            records ??= [];
            records[key] = Convert.ToBase64String(FileNameBytes.Encode(name));
        }
    }

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
                _writer.WriteEntry(Entry(TarEntryType.HardLink, entryName, status, first));
                return;
            }

            _firstNames.Add((status.Device, status.Inode), entryName);
        }

        var entry = Entry(TarEntryType.RegularFile, entryName, status);
        using var content = new FixedLengthStream(FileOps.OpenRead(fullPath), status.Size);
        entry.DataStream = content;
        _writer.WriteEntry(entry);
    }
}
