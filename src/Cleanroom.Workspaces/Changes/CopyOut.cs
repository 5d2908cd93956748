using Cleanroom.Images.Layers;
using Cleanroom.Workspaces.Git;
using Cleanroom.Workspaces.Transfer;

namespace Cleanroom.Workspaces.Changes;

/// <summary>
/// Copies a sandbox's changes (the guest's <c>workspace-changes</c> tar: OCI layer form, hostile) into the local
/// working tree: unpacked with confinement into a staging directory in the git directory, planned against the tree
/// and the sandbox's base (<see cref="CopyOutPlanner"/>), refused on conflicts unless forced, then applied all or
/// nothing (<see cref="CopyOutApplier"/>). The staging directory is always removed.
/// </summary>
public static class CopyOut
{
    /// <summary>Copies <paramref name="changes"/> out into the working tree at <paramref name="repositoryRoot"/>.</summary>
    /// <param name="repositoryRoot">The working tree's top level.</param>
    /// <param name="manifest">What the sandbox started with: its commit and what was copied in (<see cref="BaseManifest.Empty"/> if nothing).</param>
    /// <param name="changes">The uncompressed changes tar from the guest.</param>
    /// <returns>The plan and what was done; <see cref="CopyOutOutcome.Conflicts"/> touched nothing.</returns>
    /// <exception cref="WorkspaceException">
    /// RejectedArchive (the archive breaks a rule or limit), CopyOutFailed (the tree cannot take it safely, or applying
    /// failed and was rolled back), NotARepository.
    /// </exception>
    public static Task<CopyOutResult> RunAsync(
        string repositoryRoot, BaseManifest manifest, Stream changes, CopyOutOptions? options = null, CancellationToken ct = default) =>
        RunAsync(repositoryRoot, manifest, changes, options ?? CopyOutOptions.Default, beforeRename: null, ct);

    /// <summary>As the public overload, with a hook called before each rename (for failure-injection tests).</summary>
    internal static async Task<CopyOutResult> RunAsync(
        string repositoryRoot, BaseManifest manifest, Stream changes, CopyOutOptions options, Action<string>? beforeRename, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(changes);
        var root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(repositoryRoot));
        if (root == "/" || LibC.GetKind(root) != NodeKind.Directory)
        {
            throw new WorkspaceException(WorkspaceErrorKind.NotARepository, $"'{repositoryRoot}' is not a directory.");
        }

        var gitDirectory = (await HostGit.RunAsync(root, isolated: false, ["rev-parse", "--absolute-git-dir"], options.GitTimeout, ct)).Stdout.Trim();
        var owner = options.Owner ?? LibC.GetOwner(root);
        using var staging = StagingArea.Create(gitDirectory);
        var unpacker = new ConfinedUnpacker(staging.New, options.Limits, owner, changes: true);
        await Task.Run(() => unpacker.Unpack(changes, "the sandbox's changes", ct), ct);

        // Nothing is planned before the stream has ended well: only then are the changes known to be all of them.
        await ArchiveEnd.DrainAsync(changes, "the sandbox's changes", ct);

        var local = new LocalTree(root);
        var planner = new CopyOutPlanner(local, staging.New, unpacker.Whiteouts, manifest, owner);
        planner.Inspect();
        var commitEntries = await CommitTree.LookUpAsync(root, manifest.Commit, planner.PathsNeedingCommitBase, options.GitTimeout, ct);
        var plan = planner.Decide(commitEntries);
        if (options.DryRun)
        {
            return plan.ToResult(CopyOutOutcome.DryRun);
        }

        if (plan.Conflicts.Count > 0 && !options.Force)
        {
            return plan.ToResult(CopyOutOutcome.Conflicts);
        }

        var applier = new CopyOutApplier(local, staging.New, staging.Backup, beforeRename);
        try
        {
            applier.Apply(plan);
        }
        finally
        {
            if (applier.RollbackIncomplete)
            {
                staging.Keep();
            }
        }

        return plan.ToResult(CopyOutOutcome.Applied);
    }
}
