using System.Formats.Tar;
using System.Text;
using Cleanroom.Escaping;

namespace Cleanroom.Workspaces.Tests;

/// <summary>
/// Builds tars as the guest's tools would send them (or as a hostile guest might), in memory. A name or link target that
/// is not UTF-8 (escaped bytes, see <see cref="FileNameBytes"/>) is written as the guest does, in the
/// <see cref="PaxRawNames"/> vendor records.
/// </summary>
internal sealed class GuestTar
{
    private readonly MemoryStream _stream = new();
    private readonly TarWriter _writer;

    public GuestTar() => _writer = new TarWriter(_stream, TarEntryFormat.Pax, leaveOpen: true);

    public GuestTar File(string name, string content, int mode = 0x1A4) => File(name, Encoding.UTF8.GetBytes(content), mode);

    public GuestTar File(string name, byte[] content, int mode = 0x1A4)
    {
        var entry = PaxRawNames.Entry(TarEntryType.RegularFile, name);
        entry.Mode = (UnixFileMode)mode;
        entry.ModificationTime = new DateTimeOffset(2024, 1, 2, 3, 4, 5, TimeSpan.Zero);
        entry.DataStream = new MemoryStream(content);
        _writer.WriteEntry(entry);
        return this;
    }

    public GuestTar Directory(string name, int mode = 0x1ED)
    {
        var entry = PaxRawNames.Entry(TarEntryType.Directory, name);
        entry.Mode = (UnixFileMode)mode;
        _writer.WriteEntry(entry);
        return this;
    }

    public GuestTar Symlink(string name, string target)
    {
        var entry = PaxRawNames.Entry(TarEntryType.SymbolicLink, name, target);
        entry.Mode = (UnixFileMode)0x1FF;
        _writer.WriteEntry(entry);
        return this;
    }

    public GuestTar HardLink(string name, string target)
    {
        _writer.WriteEntry(PaxRawNames.Entry(TarEntryType.HardLink, name, target));
        return this;
    }

    public GuestTar Entry(TarEntryType type, string name)
    {
        _writer.WriteEntry(new PaxTarEntry(type, name) { Mode = (UnixFileMode)0x1A4 });
        return this;
    }

    /// <summary>
    /// An entry with the given PAX records as they are (a hostile guest's own <c>CLEANROOM.rawpath</c> record, say),
    /// named <paramref name="name"/> for other tools.
    /// </summary>
    public GuestTar WithRecords(TarEntryType type, string name, Dictionary<string, string> records, string? linkName = null)
    {
        var entry = new PaxTarEntry(type, name, records) { Mode = (UnixFileMode)0x1A4 };
        if (linkName is not null)
        {
            entry.LinkName = linkName;
        }

        if (type == TarEntryType.RegularFile)
        {
            entry.DataStream = new MemoryStream("escaped\n"u8.ToArray());
        }

        _writer.WriteEntry(entry);
        return this;
    }

    /// <summary>OCI deletion of <paramref name="path"/>: an empty <c>dir/.wh.NAME</c>.</summary>
    public GuestTar Whiteout(string path)
    {
        var slash = path.LastIndexOf('/');
        return File(slash < 0 ? ".wh." + path : path[..(slash + 1)] + ".wh." + path[(slash + 1)..], "");
    }

    public GuestTar Opaque(string directory) => File(directory.Length == 0 ? ".wh..wh..opq" : directory + "/.wh..wh..opq", "");

    public MemoryStream Build()
    {
        _writer.Dispose();
        _stream.Position = 0;
        return _stream;
    }
}
