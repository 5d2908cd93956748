using System.Text;
using Cleanroom.Images.Ext4;
using Cleanroom.Workspaces.Git;

namespace Cleanroom.Workspaces.Build;

/// <summary>
/// Writes commits' trees and a staged <c>.git</c> straight into an <see cref="Ext4ImageWriter"/>: directories as the
/// listing names them, every blob streamed from <c>git cat-file --batch</c> into its place in the image, so the
/// content is written once, with no checkout and no <c>mkfs.ext4 -d</c> reading it back. Paths are bytes (keyed by their
/// Latin-1 spelling, a lossless byte-to-char mapping), as git stores them. The tree is a repository's content, so
/// anything git itself would refuse to check out is refused here too.
/// </summary>
internal sealed class ImageTree
{
    /// <summary>Longest symlink target accepted (PATH_MAX less the terminating NUL).</summary>
    public const int MaxSymlinkTarget = 4095;

    private const uint DirectoryMode = 0x1ED; // 0755
    private const uint RegularFileMode = 0x1A4; // 0644
    private const uint ExecutableFileMode = 0x1ED; // 0755

    private readonly Ext4ImageWriter _writer;
    private readonly Dictionary<string, uint> _directories = new(StringComparer.Ordinal) { [""] = Ext4ImageWriter.RootInode };

    /// <summary>A tree over <paramref name="writer"/>, whose root directory is the workspace's.</summary>
    public ImageTree(Ext4ImageWriter writer, uint mtime)
    {
        _writer = writer;
        writer.SetRootMetadata(new Ext4Metadata(DirectoryMode, 0, 0, mtime));
    }

    /// <summary>
    /// Writes <paramref name="listing"/> (an <c>ls-tree -r -t</c> listing of a commit in
    /// <paramref name="repository"/>) under <paramref name="prefix"/> ("" or a gitlink's path with a trailing slash,
    /// whose directory an earlier listing made), every entry dated <paramref name="mtime"/>. Gitlinks become empty
    /// directories (a submodule's own listing may fill them).
    /// </summary>
    public async Task WriteListingAsync(
        string repository, string prefix, IReadOnlyList<TreeEntry> listing, uint mtime, TimeSpan timeout, CancellationToken ct)
    {
        var prefixBytes = Encoding.UTF8.GetBytes(prefix);
        var blobs = listing.Where(e => e.IsBlob).Select(e => e.ObjectId).ToList();
        await using var batch = blobs.Count > 0 ? BlobBatch.Start(repository, blobs, timeout, ct) : null;
        foreach (var entry in listing)
        {
            ct.ThrowIfCancellationRequested();
            var path = Concat(prefixBytes, entry.Path);
            var (parent, name) = Locate(path, fromTree: true);
            try
            {
                switch (entry.Mode)
                {
                    case TreeEntry.TreeMode or TreeEntry.GitlinkMode:
                        _directories[Key(path)] = _writer.AddDirectory(parent, name.Span, new(DirectoryMode, 0, 0, mtime));
                        break;
                    case TreeEntry.RegularMode or TreeEntry.ExecutableMode:
                        var mode = entry.Mode == TreeEntry.ExecutableMode ? ExecutableFileMode : RegularFileMode;
                        await batch!.NextAsync(entry.ObjectId, entry.Size, Shown(path));
                        await _writer.AddFileAsync(parent, name, new(mode, 0, 0, mtime), batch.Content, entry.Size, batch.Token);
                        await batch.EndObjectAsync(Shown(path));
                        break;
                    case TreeEntry.SymlinkMode:
                        if (entry.Size is 0 or > MaxSymlinkTarget)
                        {
                            throw Invalid(path, $"it is a symlink whose target is {entry.Size} bytes (1 to {MaxSymlinkTarget} allowed)");
                        }

                        await batch!.NextAsync(entry.ObjectId, entry.Size, Shown(path));
                        var target = new byte[entry.Size];
                        await batch.Content.ReadExactlyAsync(target, batch.Token);
                        await batch.EndObjectAsync(Shown(path));
                        _writer.AddSymlink(parent, name.Span, target, new(0x1FF, 0, 0, mtime));
                        break;
                    default:
                        throw Invalid(path, $"its mode {Convert.ToString(entry.Mode, 8)} is not one git checks out");
                }
            }
            catch (ArgumentException ex)
            {
                throw Invalid(path, ex.Message);
            }
            catch (EndOfStreamException ex)
            {
                throw new WorkspaceException(WorkspaceErrorKind.BuildFailed, $"`git cat-file` ended in the middle of '{Shown(path)}'.", ex);
            }
        }

        if (batch is not null)
        {
            await batch.CompleteAsync();
        }
    }

    /// <summary>
    /// Adds what <paramref name="stage"/> holds (the <c>.git</c> directories and submodules' <c>.git</c> files the
    /// build staged) to the image, merging into the directories the listings made, every entry dated
    /// <paramref name="mtime"/>.
    /// </summary>
    public void WriteStage(string stage, uint mtime, CancellationToken ct)
    {
        var pending = new Stack<string>();
        pending.Push(stage);
        while (pending.Count > 0)
        {
            var directory = pending.Pop();
            foreach (var entry in new DirectoryInfo(directory).EnumerateFileSystemInfos().OrderBy(e => e.Name, StringComparer.Ordinal))
            {
                ct.ThrowIfCancellationRequested();
                var path = Encoding.UTF8.GetBytes(Path.GetRelativePath(stage, entry.FullName));
                var (parent, name) = Locate(path, fromTree: false);
                if (entry.LinkTarget is not null)
                {
                    throw new WorkspaceException(WorkspaceErrorKind.BuildFailed, $"The staged '{Shown(path)}' is a symlink; nothing staged should be.");
                }

                if (entry is DirectoryInfo)
                {
                    if (!_directories.ContainsKey(Key(path)))
                    {
                        _directories[Key(path)] = _writer.AddDirectory(parent, name.Span, new(DirectoryMode, 0, 0, mtime));
                    }

                    pending.Push(entry.FullName);
                    continue;
                }

                var file = (FileInfo)entry;
                var executable = (file.UnixFileMode & UnixFileMode.UserExecute) != 0;
                using var content = File.OpenHandle(file.FullName);
                _writer.AddFileCopy(parent, name.Span, new(executable ? ExecutableFileMode : RegularFileMode, 0, 0, mtime), content, RandomAccess.GetLength(content));
            }
        }
    }

    /// <summary>The directory inode a path's parent is, and its last component; refuses what git would not check out.</summary>
    private (uint Parent, ReadOnlyMemory<byte> Name) Locate(byte[] path, bool fromTree)
    {
        var slash = Array.LastIndexOf(path, (byte)'/');
        if (fromTree)
        {
            var start = 0;
            for (var i = 0; i <= path.Length; i++)
            {
                if (i < path.Length && path[i] != (byte)'/')
                {
                    continue;
                }

                if (IsDotGit(path.AsSpan(start, i - start)))
                {
                    throw Invalid(path, "it has a .git component, which git refuses to check out");
                }

                start = i + 1;
            }
        }

        var parentKey = slash < 0 ? "" : Encoding.Latin1.GetString(path, 0, slash);
        if (!_directories.TryGetValue(parentKey, out var parent))
        {
            throw Invalid(path, "its parent is not a directory of the tree");
        }

        return (parent, path.AsMemory(slash + 1));
    }

    private static bool IsDotGit(ReadOnlySpan<byte> component) =>
        component.Length == 4 && component[0] == (byte)'.' && Ascii.EqualsIgnoreCase(component[1..], "git"u8);

    private static byte[] Concat(byte[] prefix, byte[] path)
    {
        if (prefix.Length == 0)
        {
            return path;
        }

        var joined = new byte[prefix.Length + path.Length];
        prefix.CopyTo(joined, 0);
        path.CopyTo(joined, prefix.Length);
        return joined;
    }

    private static string Key(byte[] path) => Encoding.Latin1.GetString(path);

    /// <summary>A path for messages: invalid UTF-8 and control characters replaced, at most 200 characters.</summary>
    private static string Shown(byte[] path) =>
        new([.. Encoding.UTF8.GetString(path).Take(200).Select(c => char.IsControl(c) ? '?' : c)]);

    private static WorkspaceException Invalid(byte[] path, string reason) =>
        new(WorkspaceErrorKind.InvalidTree, $"The commit's tree cannot be checked out: '{Shown(path)}' is refused: {reason}.");
}
