using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using Cleanroom.Oci;

namespace Cleanroom.Images.Tests.Layers;

/// <summary>Builds a layer tarball in memory, PAX format as image builders write it, optionally compressed.</summary>
internal sealed class LayerTar
{
    public static readonly DateTimeOffset DefaultTime = new(2001, 2, 3, 4, 5, 6, TimeSpan.Zero);

    private readonly List<TarEntry> _entries = [];

    public LayerTar File(string name, string content = "", UnixFileMode mode = (UnixFileMode)0x1A4, int uid = 0, int gid = 0, DateTimeOffset? mtime = null, Dictionary<string, string>? records = null) =>
        File(name, new MemoryStream(Encoding.UTF8.GetBytes(content)), mode, uid, gid, mtime, records);

    public LayerTar File(string name, Stream data, UnixFileMode mode = (UnixFileMode)0x1A4, int uid = 0, int gid = 0, DateTimeOffset? mtime = null, Dictionary<string, string>? records = null)
    {
        var entry = Entry(TarEntryType.RegularFile, name, mode, uid, gid, mtime, records);
        entry.DataStream = data;
        return Add(entry);
    }

    public LayerTar Directory(string name, UnixFileMode mode = (UnixFileMode)0x1ED, int uid = 0, int gid = 0, DateTimeOffset? mtime = null) =>
        Add(Entry(TarEntryType.Directory, name, mode, uid, gid, mtime, null));

    public LayerTar Symlink(string name, string target, int uid = 0, int gid = 0)
    {
        var entry = Entry(TarEntryType.SymbolicLink, name, (UnixFileMode)0x1FF, uid, gid, null, null);
        entry.LinkName = target;
        return Add(entry);
    }

    public LayerTar HardLink(string name, string target)
    {
        var entry = Entry(TarEntryType.HardLink, name, (UnixFileMode)0x1A4, 0, 0, null, null);
        entry.LinkName = target;
        return Add(entry);
    }

    public LayerTar Device(string name, TarEntryType type, int major, int minor, UnixFileMode mode = (UnixFileMode)0x1B6)
    {
        var entry = Entry(type, name, mode, 0, 0, null, null);
        if (type != TarEntryType.Fifo)
        {
            entry.DeviceMajor = major;
            entry.DeviceMinor = minor;
        }

        return Add(entry);
    }

    public LayerTar Whiteout(string path)
    {
        var slash = path.LastIndexOf('/');
        return File(slash < 0 ? ".wh." + path : path[..(slash + 1)] + ".wh." + path[(slash + 1)..]);
    }

    public LayerTar Add(TarEntry entry)
    {
        _entries.Add(entry);
        return this;
    }

    public byte[] ToTar()
    {
        var output = new MemoryStream();
        Write(output);
        return output.ToArray();
    }

    /// <summary>The layer as a blob: the tar, compressed as <paramref name="compression"/> says.</summary>
    public byte[] ToBlob(LayerCompression compression) => Compress(ToTar(), compression);

    public static byte[] Compress(byte[] tar, LayerCompression compression)
    {
        if (compression == LayerCompression.None)
        {
            return tar;
        }

        var output = new MemoryStream();
        using (Stream compressor = compression == LayerCompression.Gzip
            ? new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true)
            : new ZstdSharp.CompressionStream(output, level: 1, leaveOpen: true))
        {
            compressor.Write(tar);
        }

        return output.ToArray();
    }

    private void Write(Stream output)
    {
        using var writer = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true);
        foreach (var entry in _entries)
        {
            writer.WriteEntry(entry);
        }
    }

    private static PaxTarEntry Entry(TarEntryType type, string name, UnixFileMode mode, int uid, int gid, DateTimeOffset? mtime, Dictionary<string, string>? records) =>
        new(type, name, records ?? [])
        {
            Mode = mode,
            Uid = uid,
            Gid = gid,
            ModificationTime = mtime ?? DefaultTime,
        };
}
