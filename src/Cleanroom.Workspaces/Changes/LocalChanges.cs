using Cleanroom.Escaping;
using Cleanroom.Images.Layers;
using Cleanroom.Workspaces.Git;

namespace Cleanroom.Workspaces.Changes;

/// <summary>
/// Finds a working tree's uncommitted changes against the exact commit a sandbox has (not HEAD, which may have moved):
/// <c>git diff --raw --no-renames -z COMMIT</c> for tracked paths (modified, deleted, mode and type changes; a rename
/// is a deletion plus an addition) and <c>git ls-files --others --exclude-standard -z</c> for untracked files that
/// are not ignored. Both are streamed as bytes. Then every path is looked at with lstat, parents included, so a
/// symlinked directory in the working tree is never read through.
/// </summary>
/// <remarks>
/// Names that are not valid UTF-8 are carried exactly (<see cref="FileNameBytes"/>) and only ever reach the file system
/// through libc calls that pass their bytes; .NET's own path APIs would name some other file. Submodules and nested
/// repositories (not supported yet), and sockets or FIFOs, are reported in <see cref="LocalChangeSet.Skipped"/> and
/// not copied.
/// </remarks>
public static class LocalChanges
{
    /// <summary>The changes of the working tree at <paramref name="repositoryRoot"/> against <paramref name="commit"/>.</summary>
    /// <param name="repositoryRoot">The top level of the working tree.</param>
    /// <param name="commit">The full id of the commit the sandbox has.</param>
    public static async Task<LocalChangeSet> FindAsync(string repositoryRoot, string commit, LocalChangeOptions? options = null, CancellationToken ct = default)
    {
        options ??= LocalChangeOptions.Default;
        var root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(repositoryRoot));
        if (!CommitResolver.IsObjectId(commit))
        {
            throw new WorkspaceException(WorkspaceErrorKind.UnknownRevision, $"'{commit}' is not a full commit id.");
        }

        var collector = new Collector();
        await GitRecords.ReadAsync(
            root,
            ["diff", "--raw", "-z", "--no-renames", "--no-abbrev", "--no-ext-diff", "--no-textconv", "--ignore-submodules=none", commit, "--"],
            collector.AddDiffRecord,
            "Listing the working tree's changes",
            options.GitTimeout,
            ct);
        await GitRecords.ReadAsync(
            root, ["ls-files", "--others", "--exclude-standard", "-z"], collector.AddUntracked, "Listing untracked files", options.GitTimeout, ct);
        return collector.Classify(root, commit, options);
    }

    /// <summary>Gathers git's records; paths that cannot be copied go straight to the skipped list.</summary>
    private sealed class Collector
    {
        private readonly SortedSet<string> _tracked = new(StringComparer.Ordinal);
        private readonly SortedSet<string> _untracked = new(StringComparer.Ordinal);
        private readonly List<SkippedPath> _skipped = [];
        private bool _submoduleHeader;
        private bool _expectPath;

        /// <summary><c>:OLDMODE NEWMODE OLDID NEWID STATUS</c> then the path, as separate records with -z.</summary>
        public void AddDiffRecord(ReadOnlySpan<byte> record)
        {
            if (!_expectPath)
            {
                if (record.IsEmpty || record[0] != (byte)':')
                {
                    throw new WorkspaceException(WorkspaceErrorKind.BuildFailed, "`git diff --raw` printed an unexpected record.");
                }

                _submoduleHeader = record.IndexOf("160000"u8) is 1 or 8;
                _expectPath = true;
                return;
            }

            _expectPath = false;
            if (Decode(record, "submodule (not supported yet)", _submoduleHeader) is { } path)
            {
                _tracked.Add(path);
            }
        }

        public void AddUntracked(ReadOnlySpan<byte> record)
        {
            // ls-files names an untracked nested repository as its directory, with a trailing slash.
            if (Decode(record, "nested repository (not supported yet)", record.EndsWith("/"u8)) is { } path)
            {
                _untracked.Add(path);
            }
        }

        public LocalChangeSet Classify(string root, string commit, LocalChangeOptions options)
        {
            var present = new List<LocalFile>();
            var deleted = new List<string>();
            var tree = new LocalTree(root);
            foreach (var path in _tracked.Concat(_untracked).Distinct().Order(StringComparer.Ordinal))
            {
                var kind = tree.KindOf(path, refuseSymlinkedParent: false);
                switch (kind)
                {
                    case NodeKind.RegularFile or NodeKind.Symlink:
                        present.Add(new LocalFile(path, kind == NodeKind.Symlink, kind == NodeKind.RegularFile ? LibC.GetStatus(tree.HostPath(path)).Size : 0));
                        break;
                    case NodeKind.Missing or NodeKind.Directory when _tracked.Contains(path):
                        // Gone, or a directory now stands where the commit has a file (its files are listed themselves).
                        deleted.Add(path);
                        break;
                    case NodeKind.Special:
                        _skipped.Add(new SkippedPath(UntrustedText.Escape(path), "not a regular file or symlink"));
                        break;
                }
            }

            return new LocalChangeSet(root, commit, present, deleted, _skipped, options);
        }

        private string? Decode(ReadOnlySpan<byte> record, string reasonIfSkipped, bool skip)
        {
            // Exact for any name: bytes that are not UTF-8 are escaped (FileNameBytes), and every later call names the
            // file through libc with those bytes.
            var path = FileNameBytes.Decode(record);
            if (skip)
            {
                _skipped.Add(new SkippedPath(UntrustedText.Escape(path.TrimEnd('/')), reasonIfSkipped));
                return null;
            }

            if (Whiteout.IsReservedName(path))
            {
                // In the copy-in tar (layer form) such a name is a whiteout: the guest would delete another file instead.
                _skipped.Add(new SkippedPath(UntrustedText.Escape(path), "a name beginning with '.wh.' is reserved for whiteouts"));
                return null;
            }

            return path;
        }
    }
}
