using System.Formats.Tar;
using System.Text;

namespace Cleanroom.TestSupport;

/// <summary>
/// What goes into one layer's tar, written as it is declared (so a 100 MB file streams straight through to the
/// compressed blob). Paths are relative to the image root; a leading <c>/</c> or <c>./</c> is dropped. Every entry
/// gets the builder's fixed modification time, so the same declarations always make the same blob.
/// </summary>
public sealed class LayerContents
{
    public const UnixFileMode FileMode644 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
    public const UnixFileMode FileMode755 = FileMode644 | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
    public const UnixFileMode LinkMode777 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <summary>The prefix that marks a whiteout file (OCI image spec, "Representing Changes").</summary>
    public const string WhiteoutPrefix = ".wh.";

    /// <summary>The file whose presence makes a directory opaque: lower layers' contents of it are hidden.</summary>
    public const string OpaqueMarker = ".wh..wh..opq";

    private readonly DateTimeOffset _modificationTime;

    internal LayerContents(TarWriter writer, DateTimeOffset modificationTime)
    {
        Writer = writer;
        _modificationTime = modificationTime;
    }

    /// <summary>The underlying writer, for entries this API has no method for (devices, FIFOs, odd headers).</summary>
    public TarWriter Writer { get; }

    public LayerContents Directory(string path, UnixFileMode mode = FileMode755, int uid = 0, int gid = 0) =>
        Write(NewEntry(TarEntryType.Directory, Normalize(path) + "/", mode, uid, gid));

    public LayerContents File(string path, string content, UnixFileMode mode = FileMode644, int uid = 0, int gid = 0) =>
        File(path, Encoding.UTF8.GetBytes(content), mode, uid, gid);

    public LayerContents File(string path, byte[] content, UnixFileMode mode = FileMode644, int uid = 0, int gid = 0)
    {
        using var data = new MemoryStream(content, writable: false);
        return File(path, data, mode, uid, gid);
    }

    /// <summary>A file whose content is read from <paramref name="content"/> (seekable: the tar header needs the size first).</summary>
    public LayerContents File(string path, Stream content, UnixFileMode mode = FileMode644, int uid = 0, int gid = 0)
    {
        var entry = NewEntry(TarEntryType.RegularFile, Normalize(path), mode, uid, gid);
        entry.DataStream = content;
        return Write(entry);
    }

    /// <summary>A file of <paramref name="size"/> pseudo-random bytes (<see cref="DeterministicContentStream"/>), streamed.</summary>
    public LayerContents BigFile(string path, long size, int seed = 1, UnixFileMode mode = FileMode644)
    {
        using var content = new DeterministicContentStream(size, seed);
        return File(path, content, mode);
    }

    public LayerContents Symlink(string path, string target, int uid = 0, int gid = 0)
    {
        var entry = NewEntry(TarEntryType.SymbolicLink, Normalize(path), LinkMode777, uid, gid);
        entry.LinkName = target;
        return Write(entry);
    }

    /// <summary>A hard link to <paramref name="target"/>, a path (in this or a lower layer) relative to the image root.</summary>
    public LayerContents Hardlink(string path, string target)
    {
        var entry = NewEntry(TarEntryType.HardLink, Normalize(path), FileMode644, 0, 0);
        entry.LinkName = Normalize(target);
        return Write(entry);
    }

    /// <summary>Deletes <paramref name="path"/> (from lower layers) with a <c>.wh.</c> whiteout file.</summary>
    public LayerContents Whiteout(string path)
    {
        var normalized = Normalize(path);
        var slash = normalized.LastIndexOf('/');
        var name = slash < 0 ? WhiteoutPrefix + normalized : normalized[..(slash + 1)] + WhiteoutPrefix + normalized[(slash + 1)..];
        return Write(NewEntry(TarEntryType.RegularFile, name, FileMode644, 0, 0));
    }

    /// <summary>Hides everything lower layers put in <paramref name="directory"/> (which this layer may refill).</summary>
    public LayerContents OpaqueDirectory(string directory) =>
        Write(NewEntry(TarEntryType.RegularFile, Normalize(directory) + "/" + OpaqueMarker, FileMode644, 0, 0));

    private PaxTarEntry NewEntry(TarEntryType type, string name, UnixFileMode mode, int uid, int gid) => new(type, name)
    {
        Mode = mode,
        Uid = uid,
        Gid = gid,
        ModificationTime = _modificationTime,
        UserName = "",
        GroupName = "",
    };

    private LayerContents Write(TarEntry entry)
    {
        Writer.WriteEntry(entry);
        return this;
    }

    private static string Normalize(string path)
    {
        var normalized = path.Replace('\\', '/');
        while (normalized.StartsWith("./", StringComparison.Ordinal) || normalized.StartsWith('/'))
        {
            normalized = normalized.StartsWith('/') ? normalized[1..] : normalized[2..];
        }

        normalized = normalized.TrimEnd('/');
        return normalized.Length > 0 ? normalized : throw new ArgumentException($"'{path}' names the image root, not an entry in it", nameof(path));
    }
}
