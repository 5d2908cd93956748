using System.Formats.Tar;
using System.Text;

namespace Cleanroom.Workspaces.Tests;

/// <summary>Builds tars as the guest's tools would send them (or as a hostile guest might), in memory.</summary>
internal sealed class GuestTar
{
    private readonly MemoryStream _stream = new();
    private readonly TarWriter _writer;

    public GuestTar() => _writer = new TarWriter(_stream, TarEntryFormat.Pax, leaveOpen: true);

    public GuestTar File(string name, string content, int mode = 0x1A4) => File(name, Encoding.UTF8.GetBytes(content), mode);

    public GuestTar File(string name, byte[] content, int mode = 0x1A4)
    {
        _writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name)
        {
            Mode = (UnixFileMode)mode,
            ModificationTime = new DateTimeOffset(2024, 1, 2, 3, 4, 5, TimeSpan.Zero),
            DataStream = new MemoryStream(content),
        });
        return this;
    }

    public GuestTar Directory(string name, int mode = 0x1ED)
    {
        _writer.WriteEntry(new PaxTarEntry(TarEntryType.Directory, name) { Mode = (UnixFileMode)mode });
        return this;
    }

    public GuestTar Symlink(string name, string target)
    {
        _writer.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, name) { LinkName = target, Mode = (UnixFileMode)0x1FF });
        return this;
    }

    public GuestTar HardLink(string name, string target)
    {
        _writer.WriteEntry(new PaxTarEntry(TarEntryType.HardLink, name) { LinkName = target });
        return this;
    }

    public GuestTar Entry(TarEntryType type, string name)
    {
        _writer.WriteEntry(new PaxTarEntry(type, name) { Mode = (UnixFileMode)0x1A4 });
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
