using System.Security.Cryptography;
using Cleanroom.Escaping;
using Cleanroom.Images.Layers;
using Cleanroom.Workspaces.Transfer;

namespace Cleanroom.Workspaces.Changes;

/// <summary>
/// Plans a copy-out from the unpacked changes (the staging tree and the whiteouts) against the working tree. A path
/// whose local state already equals the sandbox's is left alone. Every local file or symlink that would be replaced
/// or deleted must still be what the sandbox started with (its <b>base</b>: the manifest's entry from the copy-in,
/// else the commit's blob; absent when neither has it), or it is a conflict: a local edit made meanwhile. Nothing
/// under a directory named <c>.git</c> is ever touched, and a symlink in the local tree is never gone through.
/// </summary>
/// <remarks>Two passes: <see cref="Inspect"/> looks at both trees and names the paths whose base must come from the
/// commit; <see cref="Decide"/> gets those entries (one <c>git ls-tree</c>) and finds the conflicts.</remarks>
internal sealed class CopyOutPlanner
{
    private readonly LocalTree _local;
    private readonly string _stage;
    private readonly BaseManifest _manifest;
    private readonly HashAlgorithmName _algorithm;
    private readonly (int Uid, int Gid) _owner;
    private readonly IReadOnlyList<UnpackedWhiteout> _whiteouts;
    private readonly CopyOutPlan _plan = new();
    private readonly List<(string Path, BaseEntry Local)> _checks = [];
    private readonly HashSet<string> _removed = new(StringComparer.Ordinal);
    private readonly HashSet<string> _absentLocally = new(StringComparer.Ordinal);
    private readonly HashSet<string> _opaque = new(StringComparer.Ordinal);
    private readonly SortedSet<string> _stagedDirectories = new(StringComparer.Ordinal);
    private readonly SortedSet<string> _stagedLeaves = new(StringComparer.Ordinal);

    public CopyOutPlanner(LocalTree local, string stage, IReadOnlyList<UnpackedWhiteout> whiteouts, BaseManifest manifest, (int Uid, int Gid) owner)
    {
        _local = local;
        _stage = stage;
        _whiteouts = whiteouts;
        _manifest = manifest;
        _owner = owner;
        _algorithm = GitBlob.AlgorithmOf(manifest.Commit);
    }

    /// <summary>Paths whose base the manifest does not give: they must be looked up in the commit.</summary>
    public HashSet<string> PathsNeedingCommitBase { get; } = new(StringComparer.Ordinal);

    /// <summary>First pass: walks the staging tree and the local tree; refuses what can never be applied safely.</summary>
    public void Inspect()
    {
        foreach (var whiteout in _whiteouts.Where(w => w.Opaque))
        {
            // An opaque directory with nothing else staged is an empty directory replacing the local one's content.
            StageDirectory(whiteout.Path);
            _opaque.Add(whiteout.Path);
        }

        WalkStage("");
        foreach (var whiteout in _whiteouts.Where(w => !w.Opaque && _stagedDirectories.Contains(w.Path)))
        {
            // Deleted, then made again as a directory: nothing of the old one's content survives.
            _opaque.Add(whiteout.Path);
        }

        if (_opaque.Contains(""))
        {
            // The root is no staged directory of its own; its opaque marker still hides everything but .git.
            HideLocalChildren("");
        }

        foreach (var directory in _stagedDirectories)
        {
            InspectDirectory(directory);
        }

        foreach (var leaf in _stagedLeaves)
        {
            InspectLeaf(leaf);
        }

        foreach (var path in _whiteouts.Where(w => !w.Opaque).Select(w => w.Path).Order(StringComparer.Ordinal))
        {
            if (!_stagedDirectories.Contains(path) && !_stagedLeaves.Contains(path) && !IsAtOrBelowRemoved(path) && !HasAncestorIn(_absentLocally, path)
                && _local.KindOf(path, refuseSymlinkedParent: true) != NodeKind.Missing)
            {
                RemoveSubtree(path);
            }
        }

        RemoveCopiedInPathsTheSandboxDeleted();
        foreach (var (path, _) in _checks.Where(c => _manifest.Find(c.Path) is null))
        {
            PathsNeedingCommitBase.Add(path);
        }
    }

    /// <summary>
    /// A path copied in lives in the overlay's upper layer, so the changes (the whole upper layer) always hold it
    /// while the sandbox has it. When the sandbox deletes one the commit does not have, the overlay makes no whiteout
    /// (there is nothing below to hide): it is simply missing. The manifest says the sandbox had it, so it is a
    /// deletion, checked against the manifest's entry like any other. A guest that leaves out a path this way can do
    /// no more than its whiteouts already could. This relies on the changes being complete: <see cref="CopyOut"/>
    /// plans only after the stream ended well (<see cref="ArchiveEnd"/>). A path below a local symlink counts as
    /// missing (nothing is deleted through it), and a whiteout-like name is never inferred deleted (copy-in skips it).
    /// </summary>
    private void RemoveCopiedInPathsTheSandboxDeleted()
    {
        var whitedOut = _whiteouts.Select(w => w.Path).ToHashSet(StringComparer.Ordinal);
        foreach (var (path, _) in _manifest.Paths.Where(p => !p.Value.IsDeleted).OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (!_stagedLeaves.Contains(path) && !_stagedDirectories.Contains(path) && !whitedOut.Contains(path) && !IsAtOrBelowRemoved(path)
                && !HasAncestorIn(_absentLocally, path) && !HasAncestorIn(_opaque, path) && !_opaque.Contains("")
                && !Whiteout.IsReservedName(path)
                && _local.KindOf(path, refuseSymlinkedParent: false) is NodeKind.RegularFile or NodeKind.Symlink)
            {
                RemoveSubtree(path);
            }
        }
    }

    /// <summary>Second pass: compares each local path about to be replaced or deleted with its base.</summary>
    /// <param name="commitEntries">The commit's entries at <see cref="PathsNeedingCommitBase"/> (those it has).</param>
    public CopyOutPlan Decide(IReadOnlyDictionary<string, BaseEntry> commitEntries)
    {
        foreach (var (path, local) in _checks)
        {
            var expected = _manifest.Find(path) ?? (commitEntries.TryGetValue(path, out var entry) ? entry : BaseEntry.Deleted);
            if (expected.Mode == local.Mode && expected.Blob == local.Blob)
            {
                continue;
            }

            var reason = local.IsDeleted ? "deleted locally"
                : expected.IsDeleted ? "not in the sandbox's starting tree (added locally, untracked or ignored)"
                : "changed locally";
            _plan.Conflicts.Add(new CopyOutConflict(path, reason));
        }

        return _plan;
    }

    private void InspectDirectory(string directory)
    {
        if (HasAncestorIn(_absentLocally, directory))
        {
            _absentLocally.Add(directory);
            return;
        }

        switch (_local.KindOf(directory, refuseSymlinkedParent: true))
        {
            case NodeKind.Directory:
                if (_opaque.Contains(directory))
                {
                    HideLocalChildren(directory);
                }

                return;
            case NodeKind.Symlink:
                throw new WorkspaceException(
                    WorkspaceErrorKind.CopyOutFailed,
                    $"{UntrustedText.Quote(directory)} in the local tree is a symlink where the sandbox has a directory; copy-out never writes through a symlink. Replace it with a directory (or remove it) and try again.");
            case NodeKind.Missing:
                break;
            default:
                // A file where the sandbox made a directory: the file goes.
                RemoveSubtree(directory);
                break;
        }

        _absentLocally.Add(directory);
        _plan.NewDirectories.Add(directory);
    }

    private void InspectLeaf(string leaf)
    {
        var staged = _stage + "/" + leaf;
        var kind = HasAncestorIn(_absentLocally, leaf) ? NodeKind.Missing : _local.KindOf(leaf, refuseSymlinkedParent: true);
        switch (kind)
        {
            case NodeKind.Missing:
                _checks.Add((leaf, BaseEntry.Deleted));
                _plan.Added.Add(leaf);
                break;
            case NodeKind.RegularFile or NodeKind.Symlink:
                var local = StateOf(_local.HostPath(leaf));
                var wanted = StateOf(staged);
                if (local == wanted)
                {
                    _plan.Unchanged++;
                    return;
                }

                _checks.Add((leaf, local));
                (local.Blob == wanted.Blob ? _plan.ModeChanged : _plan.Modified).Add(leaf);
                _plan.Removals.Add(leaf);
                _removed.Add(leaf);
                break;
            default:
                // A directory (or a FIFO, socket) where the sandbox has a file: it goes, with everything below it.
                RemoveSubtree(leaf);
                _plan.Added.Add(leaf);
                break;
        }

        _plan.Writes.Add(leaf);
        if (LibC.GetKind(staged) == NodeKind.RegularFile)
        {
            _plan.BytesWritten += LibC.GetStatus(staged).Size;
        }
    }

    /// <summary>An opaque directory that exists locally: its local children the sandbox did not write are deleted.</summary>
    private void HideLocalChildren(string directory)
    {
        foreach (var name in ChildNames(_local.HostPath(directory)))
        {
            var child = directory.Length == 0 ? name : directory + "/" + name;
            if (directory.Length == 0 && name == ".git")
            {
                continue;
            }

            if (_stagedDirectories.Contains(child))
            {
                _opaque.Add(child); // inside an opaque directory nothing of the old content survives, at any depth
            }
            else if (!_stagedLeaves.Contains(child))
            {
                RemoveSubtree(child);
            }
        }
    }

    /// <summary>Plans the removal of the local node at <paramref name="path"/>; every file below it is checked against its base.</summary>
    private void RemoveSubtree(string path)
    {
        _plan.Removals.Add(path);
        _removed.Add(path);
        CheckLeavesBelow(path, _local.HostPath(path));
    }

    private void CheckLeavesBelow(string relative, string host)
    {
        if (Path.GetFileName(relative).Equals(".git", StringComparison.OrdinalIgnoreCase))
        {
            throw new WorkspaceException(
                WorkspaceErrorKind.CopyOutFailed,
                $"The copy-out would delete {UntrustedText.Quote(relative)}, a nested repository's git directory; that is never done. Move it away and try again.");
        }

        switch (LibC.GetKind(host))
        {
            case NodeKind.Directory:
                foreach (var name in ChildNames(host))
                {
                    CheckLeavesBelow(relative + "/" + name, host + "/" + name);
                }

                return;
            case NodeKind.Missing:
                // Listed by the directory, gone by the time it was looked at: something is changing the tree right now.
                _plan.Conflicts.Add(new CopyOutConflict(relative, "it disappeared while the copy-out checked it"));
                break;
            default:
                _checks.Add((relative, StateOf(host)));
                break;
        }

        _plan.Deleted.Add(relative);
    }

    /// <summary>Git's view of a local or staged node: mode and blob, or a state no base can equal (FIFO, socket).</summary>
    private BaseEntry StateOf(string host) =>
        GitBlob.OfNode(_algorithm, host) is { } state ? new BaseEntry(state.Mode, state.Blob) : new BaseEntry("special", "");

    private void WalkStage(string relative)
    {
        foreach (var name in ChildNames(relative.Length == 0 ? _stage : _stage + "/" + relative))
        {
            var child = relative.Length == 0 ? name : relative + "/" + name;
            if (LibC.GetKind(_stage + "/" + child) == NodeKind.Directory)
            {
                _stagedDirectories.Add(child);
                WalkStage(child);
            }
            else
            {
                _stagedLeaves.Add(child);
            }
        }
    }

    /// <summary>Makes the staged directory <paramref name="relative"/>, refusing to go through anything but real directories.</summary>
    private void StageDirectory(string relative)
    {
        var host = _stage;
        foreach (var range in relative.AsSpan().Split('/'))
        {
            host = host + "/" + relative[range];
            switch (LibC.GetKind(host))
            {
                case NodeKind.Directory:
                    continue;
                case NodeKind.Missing:
                    LibC.MakeDirectory(host, 0x1ED);
                    LibC.ChangeOwner(host, _owner.Uid, _owner.Gid);
                    continue;
                default:
                    throw new WorkspaceException(
                        WorkspaceErrorKind.RejectedArchive,
                        $"the sandbox's changes were refused: the opaque marker of {UntrustedText.Quote(relative)} lies below something that is not a directory");
            }
        }
    }

    private bool IsAtOrBelowRemoved(string path) => _removed.Contains(path) || HasAncestorIn(_removed, path);

    private static bool HasAncestorIn(HashSet<string> set, string path)
    {
        for (var slash = path.LastIndexOf('/'); slash > 0; slash = path.LastIndexOf('/', slash - 1))
        {
            if (set.Contains(path[..slash]))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Names in a directory, sorted, so plans and results do not depend on directory order. Listed through libc, so a
    /// name that is not UTF-8 comes exactly (escaped, see <see cref="FileNameBytes"/>) and names its node.
    /// </summary>
    private static string[] ChildNames(string host) => [.. LibC.ListDirectory(host).Order(StringComparer.Ordinal)];
}
