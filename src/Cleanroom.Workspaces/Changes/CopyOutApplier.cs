using Cleanroom.Escaping;
using Cleanroom.Images.Layers;

namespace Cleanroom.Workspaces.Changes;

/// <summary>
/// Applies a <see cref="CopyOutPlan"/> all or nothing. Everything it does is a rename on one file system: local nodes
/// that are replaced or deleted are moved into the staging directory's backup area, then staged directories and
/// files are moved into place. Each rename is journalled; on any failure the journal is undone in reverse, which
/// puts every moved node back where it was. Renames never replace (RENAME_NOREPLACE) and never follow symlinks, and
/// each target's parent is checked again with lstat right before, so nothing lands outside the repository.
/// </summary>
/// <param name="beforeRename">Called with each rename's target before it happens (tests inject failures here).</param>
internal sealed class CopyOutApplier(LocalTree local, string stage, string backup, Action<string>? beforeRename = null)
{
    private readonly Stack<(string From, string To)> _journal = new();

    /// <summary>True when a rollback could not put everything back; the backups must then be kept.</summary>
    public bool RollbackIncomplete { get; private set; }

    public void Apply(CopyOutPlan plan)
    {
        local.Forget();
        try
        {
            for (var i = 0; i < plan.Removals.Count; i++)
            {
                var path = plan.Removals[i];
                Move(local.HostPath(path), backup + "/" + i.ToString(System.Globalization.CultureInfo.InvariantCulture), path);
            }

            var moved = new HashSet<string>(StringComparer.Ordinal);
            foreach (var directory in plan.NewDirectories)
            {
                Move(stage + "/" + directory, local.HostPath(directory), directory);
                moved.Add(directory);
            }

            foreach (var path in plan.Writes.Where(p => !HasAncestorIn(moved, p)))
            {
                Move(stage + "/" + path, local.HostPath(path), path);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or WorkspaceException)
        {
            var failures = RollBack();
            throw new WorkspaceException(
                WorkspaceErrorKind.CopyOutFailed,
                failures.Count == 0
                    ? $"Copying out failed and was rolled back; the working tree is as it was: {ex.Message}"
                    : $"Copying out failed ({ex.Message}) and the rollback was incomplete; what could not be restored is kept under '{backup}': {string.Join("; ", failures)}",
                ex);
        }
    }

    private void Move(string from, string to, string relative)
    {
        var slash = relative.LastIndexOf('/');
        if (slash >= 0 && local.KindOf(relative[..slash], refuseSymlinkedParent: true) != NodeKind.Directory)
        {
            throw new IOException($"the parent of {UntrustedText.Quote(relative)} is no longer a directory");
        }

        beforeRename?.Invoke(relative);
        var errno = LibC.TryRename(from, to, replace: false);
        if (errno != 0)
        {
            throw new IOException($"could not move {UntrustedText.Quote(relative)}: {LibC.Describe(errno)}");
        }

        _journal.Push((from, to));
    }

    private List<string> RollBack()
    {
        var failures = new List<string>();
        while (_journal.TryPop(out var step))
        {
            var errno = LibC.TryRename(step.To, step.From, replace: false);
            if (errno != 0)
            {
                failures.Add($"'{step.To}' -> '{step.From}': {LibC.Describe(errno)}");
            }
        }

        RollbackIncomplete = failures.Count > 0;
        return failures;
    }

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
}
