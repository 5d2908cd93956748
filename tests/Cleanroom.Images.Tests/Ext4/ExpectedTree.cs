using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Cleanroom.Images.Ext4;
using Cleanroom.TestSupport;

namespace Cleanroom.Images.Tests.Ext4;

/// <summary>
/// Adds entries through an <see cref="Ext4ImageWriter"/> and remembers what was written, then compares that with a
/// mounted image. Paths are keyed as Latin-1 strings of their raw bytes, so non-UTF-8 names compare exactly.
/// </summary>
internal sealed class ExpectedTree(Ext4ImageWriter writer)
{
    private readonly Dictionary<uint, string> _directoryPaths = new() { [Ext4ImageWriter.RootInode] = "" };
    private readonly Dictionary<string, Expected> _entries = [];

    public void SetRoot(Ext4Metadata metadata)
    {
        writer.SetRootMetadata(metadata);
        _entries[""] = new Expected('d', metadata, 0, null, null);
    }

    public uint Directory(uint parent, string name, Ext4Metadata metadata) => Directory(parent, Encoding.UTF8.GetBytes(name), metadata);

    public uint Directory(uint parent, byte[] name, Ext4Metadata metadata)
    {
        var inode = writer.AddDirectory(parent, name, metadata);
        var path = PathOf(parent, name);
        _directoryPaths[inode] = path;
        _entries[path] = new Expected('d', metadata, 0, null, null);
        return inode;
    }

    public void File(uint parent, string name, Ext4Metadata metadata, byte[] content) => File(parent, Encoding.UTF8.GetBytes(name), metadata, content);

    public void File(uint parent, byte[] name, Ext4Metadata metadata, byte[] content)
    {
        writer.AddFile(parent, name, metadata, content);
        _entries[PathOf(parent, name)] = new Expected('f', metadata, content.Length, SHA256.HashData(content), null);
    }

    /// <summary>A file streamed through <see cref="Ext4ImageWriter.AddFileAsync"/> from deterministic content.</summary>
    public async Task StreamedFile(uint parent, string name, Ext4Metadata metadata, long length, int seed)
    {
        using (var content = new DeterministicContentStream(length, seed))
        {
            await writer.AddFileAsync(parent, Encoding.UTF8.GetBytes(name), metadata, content, length, CancellationToken.None);
            Assert.Equal(length, content.Position);
        }

        using var again = new DeterministicContentStream(length, seed);
        _entries[PathOf(parent, Encoding.UTF8.GetBytes(name))] = new Expected('f', metadata, length, SHA256.HashData(again), null);
    }

    public void Symlink(uint parent, string name, byte[] target, Ext4Metadata metadata)
    {
        var nameBytes = Encoding.UTF8.GetBytes(name);
        writer.AddSymlink(parent, nameBytes, target, metadata);
        _entries[PathOf(parent, nameBytes)] = new Expected('l', metadata, target.Length, null, target);
    }

    /// <summary>
    /// Compares the mounted tree with what was written: the same entries (plus lost+found when asked), types, modes,
    /// owners, times, sizes, link counts, link targets and byte-exact contents.
    /// </summary>
    public void AssertMatches(string mountPoint, bool lostAndFound)
    {
        var actual = ReadManifest(mountPoint);
        var expectedPaths = _entries.Keys.Append("").Concat(lostAndFound ? ["lost+found"] : Array.Empty<string>()).ToHashSet();
        Assert.Equal(expectedPaths.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        foreach (var (path, expected) in _entries)
        {
            var found = actual[path];
            var where = $"'{path}'";
            Assert.True(expected.Kind == found.Kind, $"{where}: type {found.Kind}, expected {expected.Kind}");
            Assert.True(expected.Metadata.Mode == found.Mode, $"{where}: mode {Convert.ToString(found.Mode, 8)}, expected {Convert.ToString(expected.Metadata.Mode, 8)}");
            Assert.True(expected.Metadata.Uid == found.Uid && expected.Metadata.Gid == found.Gid, $"{where}: owner {found.Uid}:{found.Gid}");
            Assert.True(Math.Clamp(expected.Metadata.MtimeSeconds, 0, uint.MaxValue) == found.Mtime, $"{where}: mtime {found.Mtime}, expected {expected.Metadata.MtimeSeconds}");
            switch (expected.Kind)
            {
                case 'f':
                    Assert.True(expected.Length == found.Size, $"{where}: size {found.Size}, expected {expected.Length}");
                    Assert.True(found.Links == 1, $"{where}: {found.Links} links");
                    Assert.True(expected.Sha256!.AsSpan().SequenceEqual(HashContent(mountPoint, path, found.Inode)), $"{where}: content differs");
                    break;
                case 'l':
                    Assert.True(expected.Target!.AsSpan().SequenceEqual(found.Target), $"{where}: target differs");
                    Assert.Equal(expected.Length, found.Size);
                    break;
                default:
                    var subdirectories = actual.Count(other => other.Value.Kind == 'd' && other.Key.Length > 0 && ParentOf(other.Key) == path);
                    Assert.True(2 + subdirectories == found.Links, $"{where}: {found.Links} links, {subdirectories} subdirectories");
                    break;
            }
        }
    }

    private string PathOf(uint parent, byte[] name)
    {
        var parentPath = _directoryPaths[parent];
        var nameKey = Encoding.Latin1.GetString(name);
        return parentPath.Length == 0 ? nameKey : parentPath + "/" + nameKey;
    }

    private static string ParentOf(string path) => path.LastIndexOf('/') is var slash and >= 0 ? path[..slash] : "";

    /// <summary>
    /// sha256 of a mounted file. .NET paths are UTF-16 and cannot name non-UTF-8 bytes, so those files are read by
    /// inode number through find(1), which passes the raw name on.
    /// </summary>
    private static byte[] HashContent(string mountPoint, string path, long inode)
    {
        var bytes = Encoding.Latin1.GetBytes(path);
        if (System.Text.Unicode.Utf8.IsValid(bytes))
        {
            using var stream = System.IO.File.OpenRead(Path.Combine(mountPoint, Encoding.UTF8.GetString(bytes)));
            return SHA256.HashData(stream);
        }

        return SHA256.HashData(Ext4Tools.RunChecked("find", mountPoint, "-xdev", "-inum", inode.ToString(CultureInfo.InvariantCulture), "-exec", "cat", "{}", "+"));
    }

    /// <summary>Every entry under <paramref name="mountPoint"/> as find(1) reports it, names as raw bytes.</summary>
    private static Dictionary<string, Found> ReadManifest(string mountPoint)
    {
        const int Fields = 10;
        var output = Ext4Tools.RunChecked("find", mountPoint, "-printf", @"%P\0%y\0%m\0%U\0%G\0%T@\0%s\0%i\0%n\0%l\0");
        var fields = new List<byte[]>();
        var start = 0;
        for (var i = 0; i < output.Length; i++)
        {
            if (output[i] == 0)
            {
                fields.Add(output[start..i]);
                start = i + 1;
            }
        }

        Assert.Equal(0, fields.Count % Fields);
        var manifest = new Dictionary<string, Found>();
        for (var i = 0; i < fields.Count; i += Fields)
        {
            string Text(int field) => Encoding.Latin1.GetString(fields[i + field]);
            long Number(int field) => long.Parse(Text(field), CultureInfo.InvariantCulture);
            manifest[Text(0)] = new Found(
                Text(1)[0],
                Convert.ToUInt32(Text(2), 8),
                (uint)Number(3),
                (uint)Number(4),
                long.Parse(Text(5).Split('.')[0], CultureInfo.InvariantCulture),
                Number(6),
                Number(7),
                Number(8),
                fields[i + 9]);
        }

        return manifest;
    }

    private sealed record Expected(char Kind, Ext4Metadata Metadata, long Length, byte[]? Sha256, byte[]? Target);

    private sealed record Found(char Kind, uint Mode, uint Uid, uint Gid, long Mtime, long Size, long Inode, long Links, byte[] Target);
}
