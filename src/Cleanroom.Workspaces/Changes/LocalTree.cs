using Cleanroom.Escaping;
using Cleanroom.Images.Layers;

namespace Cleanroom.Workspaces.Changes;

/// <summary>
/// The repository's working tree as the copy-in and copy-out see it: every path is looked at component by component
/// with lstat, so a symlink in the local tree is never followed, out of the repository or anywhere else. Directories
/// already found real are remembered: paths come sorted, so most share their parents with the path before.
/// </summary>
/// <param name="root">The working tree's top level, a full path.</param>
internal sealed class LocalTree(string root)
{
    private readonly Dictionary<string, NodeKind> _directories = new(StringComparer.Ordinal) { [""] = NodeKind.Directory };

    public string Root { get; } = root;

    public string HostPath(string relative) => relative.Length == 0 ? Root : string.Concat(Root, "/", relative);

    /// <summary>
    /// What is at <paramref name="relative"/>: <see cref="NodeKind.Missing"/> when it or a parent does not exist, or a
    /// parent is not a directory. A parent that is a symlink is refused when <paramref name="refuseSymlinkedParent"/>
    /// (the copy-out), else makes the path count as missing (the copy-in: git sees no file there either).
    /// </summary>
    /// <exception cref="WorkspaceException">CopyOutFailed: a parent is a symlink and <paramref name="refuseSymlinkedParent"/>.</exception>
    public NodeKind KindOf(string relative, bool refuseSymlinkedParent)
    {
        var slash = relative.LastIndexOf('/');
        if (slash >= 0 && DirectoryKind(relative[..slash], refuseSymlinkedParent) != NodeKind.Directory)
        {
            return NodeKind.Missing;
        }

        return LibC.GetKind(HostPath(relative));
    }

    /// <summary>Forgets what was learned (after the tree changed).</summary>
    public void Forget()
    {
        _directories.Clear();
        _directories[""] = NodeKind.Directory;
    }

    private NodeKind DirectoryKind(string relative, bool refuseSymlinkedParent)
    {
        if (!_directories.TryGetValue(relative, out var kind))
        {
            kind = KindOf(relative, refuseSymlinkedParent);
            _directories[relative] = kind;
        }

        if (kind == NodeKind.Symlink && refuseSymlinkedParent)
        {
            throw new WorkspaceException(
                WorkspaceErrorKind.CopyOutFailed,
                $"{UntrustedText.Quote(relative)} in the local tree is a symlink where the sandbox has a directory; copy-out never writes through a symlink. Replace it with a directory (or remove it) and try again.");
        }

        return kind;
    }
}
