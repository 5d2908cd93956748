using System.Text;
using Cleanroom.Workspaces.Build;

namespace Cleanroom.Workspaces.Submodules;

/// <summary>
/// Lays resolved submodules out in a staged checkout the way <c>git submodule update --init --recursive</c> leaves a
/// clone: each submodule's tree in its (empty) gitlink directory, its git directory in
/// <c>.git/modules/NAME</c> of its superproject's (a shallow copy of just its commit, as the repository's own), a
/// <c>.git</c> file pointing there and <c>core.worktree</c> pointing back, both relative so they hold wherever the
/// image is mounted, and <c>submodule.active</c> set in every superproject so git counts them as initialised.
/// </summary>
internal static class SubmoduleStaging
{
    /// <summary>Makes git treat every submodule of the repository as initialised, as <c>clone --recurse-submodules</c> does.</summary>
    private const string ActiveConfig = "[submodule]\n\tactive = .\n";

    /// <summary>Stages <paramref name="submodules"/> under <paramref name="worktree"/>; returns the bytes of the packs written.</summary>
    /// <param name="stage">The staging root: nothing may be written outside it.</param>
    /// <param name="worktree">The superproject's checkout in the stage.</param>
    /// <param name="gitDirectory">The superproject's git directory in the stage.</param>
    /// <param name="submodules">Its submodules.</param>
    /// <param name="timeout">Per git step.</param>
    /// <param name="ct">Cancels the staging.</param>
    /// <param name="directMtime">
    /// Set when the trees are written straight into the image (every submodule has a listing): only the git
    /// directories and <c>.git</c> files are staged, the gitlinks' directories made for them, and the indexes date
    /// every file so. Null to check each tree out into the stage.
    /// </param>
    public static async Task<long> StageAsync(
        string stage, string worktree, string gitDirectory, IReadOnlyList<ResolvedSubmodule> submodules, TimeSpan timeout, CancellationToken ct, uint? directMtime = null)
    {
        if (submodules.Count == 0)
        {
            return 0;
        }

        await File.AppendAllTextAsync(Path.Combine(gitDirectory, "config"), ActiveConfig, ct);
        long packBytes = 0;
        foreach (var submodule in submodules)
        {
            var checkout = Path.Combine(worktree, submodule.Path);
            if (directMtime is { } mtime)
            {
                // Only the .git is staged here; the resolver allowed plain relative paths only, and the image's
                // directories come from the tree's listing, with which the staged ones are merged.
                Directory.CreateDirectory(checkout);
                RequireEmptyDirectoryInside(stage, checkout, submodule);
                packBytes += await StagedCheckout.CreateAsync(
                    submodule.Source, submodule.Commit, checkout, timeout, ct, listing: submodule.Listing ?? throw new InvalidOperationException("no listing"), mtime: mtime);
            }
            else
            {
                RequireEmptyDirectoryInside(stage, checkout, submodule);
                packBytes += await StagedCheckout.CreateAsync(submodule.Source, submodule.Commit, checkout, timeout, ct);
            }

            var moduleDirectory = Path.Combine(gitDirectory, "modules", submodule.Name);
            if (Directory.Exists(moduleDirectory) || File.Exists(moduleDirectory))
            {
                throw new WorkspaceException(WorkspaceErrorKind.SubmoduleFailed, $"Submodule '{submodule.Path}' cannot be checked out: another submodule has its name.");
            }

            Directory.CreateDirectory(Path.GetDirectoryName(moduleDirectory)!);
            Directory.Move(Path.Combine(checkout, ".git"), moduleDirectory);
            await File.WriteAllTextAsync(Path.Combine(checkout, ".git"), "gitdir: " + Path.GetRelativePath(checkout, moduleDirectory) + "\n", ct);
            await File.AppendAllTextAsync(
                Path.Combine(moduleDirectory, "config"), "[core]\n\tworktree = " + Quote(Path.GetRelativePath(moduleDirectory, checkout)) + "\n", ct);

            packBytes += await StageAsync(stage, checkout, moduleDirectory, submodule.Children, timeout, ct, directMtime);
        }

        return packBytes;
    }

    /// <summary>
    /// The gitlink's directory, as the superproject's checkout left it: a real, empty directory with no symlink on
    /// the way from the stage's root, so the submodule's files land where its path says and nowhere else.
    /// </summary>
    private static void RequireEmptyDirectoryInside(string stage, string checkout, ResolvedSubmodule submodule)
    {
        var relative = Path.GetRelativePath(stage, checkout);
        var current = stage;
        foreach (var part in relative.Split('/'))
        {
            current = Path.Combine(current, part);
            var info = new DirectoryInfo(current);
            if (part is ".." or "." || !info.Exists || info.LinkTarget is not null)
            {
                throw new WorkspaceException(
                    WorkspaceErrorKind.SubmoduleFailed, $"Submodule '{submodule.Path}' at commit {submodule.Commit} cannot be checked out: its directory is not a plain directory of the checkout.");
            }
        }

        if (Directory.EnumerateFileSystemEntries(checkout).Any())
        {
            throw new WorkspaceException(
                WorkspaceErrorKind.SubmoduleFailed, $"Submodule '{submodule.Path}' at commit {submodule.Commit} cannot be checked out: its directory is not empty.");
        }
    }

    /// <summary>A git config value in double quotes, so <c>#</c>, <c>;</c> and spaces in a path stay part of it.</summary>
    private static string Quote(string value)
    {
        var quoted = new StringBuilder("\"");
        foreach (var c in value)
        {
            if (c is '"' or '\\')
            {
                quoted.Append('\\');
            }

            quoted.Append(c);
        }

        return quoted.Append('"').ToString();
    }
}
