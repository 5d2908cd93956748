using Cleanroom.Images.Layers;

namespace Cleanroom.Workspaces.Changes;

/// <summary>
/// Tells whether every parent of a path under a root is a real directory (lstat, no symlinks), remembering the
/// directories already checked: paths come sorted, so most share their parents with the path before.
/// </summary>
internal sealed class DirectoryChecker(string root)
{
    private readonly HashSet<string> _real = new(StringComparer.Ordinal) { "" };

    /// <summary>True when each parent of <paramref name="relative"/> exists and is a directory, not a symlink to one.</summary>
    public bool ParentIsReal(string relative)
    {
        var slash = relative.LastIndexOf('/');
        return slash < 0 || IsReal(relative[..slash]);
    }

    /// <summary>True when <paramref name="relative"/> and each of its parents is a real directory.</summary>
    public bool IsReal(string relative)
    {
        if (_real.Contains(relative))
        {
            return true;
        }

        if (!ParentIsReal(relative) || LibC.GetKind(Path.Combine(root, relative)) != NodeKind.Directory)
        {
            return false;
        }

        _real.Add(relative);
        return true;
    }

    /// <summary>Forgets what was learned (after the tree was changed).</summary>
    public void Reset()
    {
        _real.Clear();
        _real.Add("");
    }
}
