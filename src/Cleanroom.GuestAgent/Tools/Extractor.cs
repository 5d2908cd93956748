using System.Formats.Tar;
using Cleanroom.Escaping;

namespace Cleanroom.GuestAgent.Tools;

/// <summary>
/// Applies a tar stream to a directory (see <see cref="ExtractTool"/>). Entries are read one at a time and file
/// content is copied straight from the archive stream to disk. Names come through <see cref="ArchiveNames"/> (exact
/// bytes from the vendor records) and reach the file system only through libc calls that keep those bytes.
/// </summary>
internal sealed class Extractor
{
    private const string WhiteoutPrefix = ".wh.";
    private const string OpaqueMarker = ".wh..wh..opq";
    private const uint ParentMode = 0x1ED; // 0755

    private readonly string _root;
    private readonly bool _whiteouts;
    private readonly TextWriter _error;

    /// <summary>Who gets what this archive creates; null leaves it to the user the tool runs as.</summary>
    private readonly (uint Uid, uint Gid)? _owner;

    /// <summary>Every name this archive wrote or passed through: an opaque marker keeps these, whatever the order.</summary>
    private readonly HashSet<string> _written = new(StringComparer.Ordinal);

    /// <summary>Directory modes and mtimes, set at the end: writing their contents would change the mtime again.</summary>
    private readonly List<(string FullPath, uint Mode, DateTimeOffset ModificationTime)> _directories = [];

    public Extractor(string root, bool whiteouts, TextWriter error, (uint Uid, uint Gid)? owner = null)
    {
        _root = root;
        _whiteouts = whiteouts;
        _error = error;
        _owner = owner;
    }

    public void Run(Stream input)
    {
        using var reader = new TarReader(input, leaveOpen: true);
        while (reader.GetNextEntry(copyData: false) is { } entry)
        {
            Apply(entry);
        }

        // Reverse archive order: children before their parents.
        for (var i = _directories.Count - 1; i >= 0; i--)
        {
            var (fullPath, mode, time) = _directories[i];
            FileOps.ChangeMode(fullPath, mode);
            FileOps.SetModificationTime(fullPath, time);
        }
    }

    /// <summary>
    /// A fresh name next to the target. Random.Shared, not RandomNumberGenerator: that one is OpenSSL on Linux, which a
    /// static binary cannot load. Unpredictability does not matter here; creation fails rather than reuse a name.
    /// </summary>
    private static string TempName(string directory) =>
        Path.Combine(directory, $".cleanroom-extract-{Random.Shared.NextInt64(1L << 48):x12}");

    private static void RemoveQuietly(string path)
    {
        if (FileStatus.TryGet(path, out _) is not null)
        {
            FileOps.Unlink(path);
        }
    }

    private void Apply(TarEntry entry)
    {
        if (entry.EntryType is TarEntryType.GlobalExtendedAttributes)
        {
            return;
        }

        var entryName = ArchiveNames.Name(entry);
        var name = EntryNames.Normalize(entryName)
            ?? throw new ToolException($"refusing entry {Show(entryName)}: it would land outside {Show(_root)} (absolute name or '..')");
        if (name.Length == 0 && entry.EntryType != TarEntryType.Directory)
        {
            throw new ToolException($"refusing entry {Show(entryName)}: only a directory can stand for {Show(_root)} itself");
        }

        var leaf = name.Length == 0 ? "" : EntryNames.Leaf(name);
        if (_whiteouts && leaf.StartsWith(WhiteoutPrefix, StringComparison.Ordinal))
        {
            ApplyWhiteout(name, leaf);
            return;
        }

        switch (entry.EntryType)
        {
            case TarEntryType.Directory:
                WriteDirectory(name, entry);
                break;
            case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                Replace(name, temp => { WriteContent(temp, name, entry); Own(temp); }, (uint)entry.Mode, entry.ModificationTime);
                break;
            case TarEntryType.SymbolicLink:
                var linkName = ArchiveNames.LinkName(entry);
                Replace(name, temp => { FileOps.Symlink(linkName, temp); Own(temp); }, mode: null, entry.ModificationTime);
                break;
            case TarEntryType.HardLink:
                var target = LinkTarget(entry, name);
                Replace(name, temp => FileOps.HardLink(target, temp), mode: null, time: null);
                break;
            default:
                _error.WriteLine($"warning: skipping {Show(name)}: entries of type {entry.EntryType} are not extracted");
                break;
        }
    }

    /// <summary>An escaped name for a message: names come from a hostile archive or file system.</summary>
    private static string Show(string name) => UntrustedText.Escape(name);

    private static void WriteContent(string path, string name, TarEntry entry)
    {
        using var file = FileOps.CreateNew(path);
        entry.DataStream?.CopyTo(file);

        // A truncated archive just ends the entry's stream early: never commit a short file as if it were whole.
        if (file.Length != entry.Length)
        {
            throw new ToolException($"extract: the archive ends inside {Show(name)} ({file.Length} of {entry.Length} bytes)");
        }
    }

    /// <summary>
    /// Gives a new entry to the owner, before its mode is set (chown clears set-id bits). Hard links need nothing:
    /// they share the inode of an earlier entry, which got its owner when it was written.
    /// </summary>
    private void Own(string fullPath)
    {
        if (_owner is { } owner)
        {
            FileOps.ChangeOwner(fullPath, owner.Uid, owner.Gid);
        }
    }

    private string Full(string name) => name.Length == 0 ? _root : _root == "/" ? "/" + name : _root + "/" + name;

    /// <summary>
    /// The full path of <paramref name="name"/>'s parent directory, after checking (lstat) that no component below
    /// the root is a symlink or a non-directory. Missing components are created when <paramref name="create"/>;
    /// otherwise null means the parent does not exist.
    /// </summary>
    private string? Parent(string name, bool create)
    {
        var parent = EntryNames.Parent(name);
        if (parent.Length == 0)
        {
            return _root;
        }

        var sofar = "";
        foreach (var component in parent.Split('/'))
        {
            sofar = EntryNames.Join(sofar, component);
            var fullPath = Full(sofar);
            switch (FileStatus.TryGet(fullPath, out _)?.Type)
            {
                case null when create:
                    FileOps.MakeDirectory(fullPath, ParentMode);
                    Own(fullPath);
                    break;
                case null:
                    return null;
                case FileType.Directory:
                    break;
                case FileType.Symlink:
                    throw new ToolException($"refusing entry {Show(name)}: {Show(sofar)} is a symlink (it could lead outside {Show(_root)})");
                default:
                    throw new ToolException($"cannot extract {Show(name)}: {Show(sofar)} is not a directory");
            }

            if (create)
            {
                _written.Add(sofar);
            }
        }

        return Full(parent);
    }

    private void WriteDirectory(string name, TarEntry entry)
    {
        var fullPath = Full(name);
        if (name.Length > 0)
        {
            Parent(name, create: true);
            var existing = FileStatus.TryGet(fullPath, out _);
            if (existing is { Type: not FileType.Directory })
            {
                FileOps.Unlink(fullPath);
            }

            if (existing is not { Type: FileType.Directory })
            {
                FileOps.MakeDirectory(fullPath, ParentMode);
                Own(fullPath);
            }

            _written.Add(name);
        }

        _directories.Add((fullPath, (uint)entry.Mode, entry.ModificationTime));
    }

    /// <summary>
    /// Creates the entry under a temporary name next to its final place, sets mode and mtime, then renames it over
    /// whatever is there (a directory in the way is removed first: rename cannot replace one with a file).
    /// </summary>
    private void Replace(string name, Action<string> create, uint? mode, DateTimeOffset? time)
    {
        var directory = Parent(name, create: true)!;
        var fullPath = Full(name);
        var temp = TempName(directory);
        try
        {
            create(temp);
            if (mode is { } bits)
            {
                FileOps.ChangeMode(temp, bits);
            }

            if (time is { } mtime)
            {
                FileOps.SetModificationTime(temp, mtime);
            }

            if (FileStatus.TryGet(fullPath, out _) is { Type: FileType.Directory })
            {
                FileOps.RemoveTree(fullPath);
            }

            FileOps.Rename(temp, fullPath);

            // rename does nothing when both names are already links to the same file: drop the temporary name.
            RemoveQuietly(temp);
        }
        catch
        {
            RemoveQuietly(temp);
            throw;
        }

        _written.Add(name);
    }

    /// <summary>The full path of a hard link's target, which must be an earlier non-directory entry of this archive.</summary>
    private string LinkTarget(TarEntry entry, string name)
    {
        var linkName = ArchiveNames.LinkName(entry);
        var target = EntryNames.Normalize(linkName);
        if (target is null || target.Length == 0 || !_written.Contains(target))
        {
            throw new ToolException($"refusing hard link {Show(name)} -> {Show(linkName)}: the target is not an earlier entry of this archive");
        }

        // The target's parents were checked when it was written, but check again: a later entry may have changed them.
        Parent(target, create: false);
        var fullPath = Full(target);
        return FileStatus.TryGet(fullPath, out _) is { Type: not FileType.Directory }
            ? fullPath
            : throw new ToolException($"refusing hard link {Show(name)} -> {Show(linkName)}: the target is not a file");
    }

    private void ApplyWhiteout(string name, string leaf)
    {
        var directoryName = EntryNames.Parent(name);
        if (leaf == OpaqueMarker)
        {
            var directory = Parent(name, create: true)!;
            _written.Add(directoryName);
            ClearOpaque(directory, directoryName);
            return;
        }

        var hidden = leaf[WhiteoutPrefix.Length..];
        if (hidden.Length == 0 || hidden == "." || hidden == ".." || hidden.StartsWith(WhiteoutPrefix, StringComparison.Ordinal))
        {
            // Other .wh..wh.* names are aufs bookkeeping (hard-link directories), not deletions.
            _error.WriteLine($"warning: skipping {Show(name)}: not a whiteout this tool understands");
            return;
        }

        var parent = Parent(name, create: false);
        var hiddenName = EntryNames.Join(directoryName, hidden);
        if (parent is null || _written.Contains(hiddenName))
        {
            // Nothing below to hide, or the entry is this archive's own (a whiteout only hides what came before).
            return;
        }

        var fullPath = Path.Combine(parent, hidden);
        if (FileStatus.TryGet(fullPath, out _) is not null)
        {
            FileOps.RemoveTree(fullPath);
        }
    }

    /// <summary>Removes everything under a directory that this archive did not write (recursively into what it did).</summary>
    private void ClearOpaque(string fullPath, string name)
    {
        foreach (var child in DirectoryListing.Children(fullPath))
        {
            var childName = EntryNames.Join(name, child.Name);
            if (!_written.Contains(childName))
            {
                FileOps.RemoveTree(child.FullPath);
            }
            else if (child.Status.Type == FileType.Directory)
            {
                ClearOpaque(child.FullPath, childName);
            }
        }
    }
}
