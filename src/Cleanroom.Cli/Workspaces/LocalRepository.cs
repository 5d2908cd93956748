using Cleanroom.Api.V1;
using Cleanroom.Policy;

namespace Cleanroom.Cli.Workspaces;

/// <summary>
/// The repository a new sandbox checks out: the git working tree around the directory the command runs for, at the
/// exact commit HEAD names now. Uncommitted changes are not part of it; <see cref="ChangedFiles"/> counts them so the
/// user is told.
/// </summary>
/// <param name="Checkout">What the daemon is asked to check out.</param>
/// <param name="ChangedFiles">
/// Tracked files that differ from HEAD plus untracked files git does not ignore; still being counted when returned
/// (a <c>git status</c> walks the whole working tree), so the sandbox can be created meanwhile.
/// </param>
internal sealed record LocalRepository(RepositoryCheckout Checkout, Task<int> ChangedFiles)
{
    /// <summary>
    /// The repository around the absolute <paramref name="start"/> directory, or null with the reason when there is
    /// none to check out: the policy turns it off, it is not a git working tree, or it has no commit.
    /// </summary>
    /// <param name="countChanges">Count the uncommitted changes (a <c>git status</c>, the costly part); false leaves 0.</param>
    public static async Task<(LocalRepository? Repository, string? Note)> FindAsync(string start, RepositorySettings settings, bool countChanges, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (!settings.Enabled)
        {
            return (null, null);
        }
        if (await FindRootAsync(start, ct) is not { } root)
        {
            return (null, null); // not in a working tree (or no git): the sandbox starts from the bare image, as asked
        }

        // Concurrently: the status walks the whole working tree, and on the warm path it is most of what exec adds.
        var head = LocalGit.RunAsync(root, ["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], ct);
        var remote = LocalGit.RunAsync(root, ["config", "--get", $"remote.{settings.Remote}.url"], ct);
        var status = countChanges
            ? LocalGit.RunAsync(root, ["status", "--porcelain=v1", "-z", "--untracked-files=all", "--ignore-submodules=dirty"], ct)
            : Task.FromResult<(int ExitCode, string Stdout)?>(null);
        await Task.WhenAll(head, remote);
        if (await head is not (0, var headText) || headText.Trim() is not { Length: 40 or 64 } commit)
        {
            return (null, $"{root} has no commit yet, so nothing is checked out in {settings.Path}; commit something first");
        }

        var url = await remote is (0, var remoteText) ? RemoteUrl.WithoutCredentials(remoteText.Trim()) : "";
        var changed = CountAsync(status);
        return (new LocalRepository(new RepositoryCheckout { LocalPath = root, Commit = commit, DisplayName = url }, changed), null);
    }

    /// <summary>The one-line warning for a dirty working tree, or null when it is clean (waits for the count).</summary>
    public async Task<string?> DirtyWarningAsync()
    {
        var changed = await ChangedFiles;
        return changed == 0 ? null
            : $"{changed} file{(changed == 1 ? "" : "s")} differ{(changed == 1 ? "s" : "")} from HEAD ({Checkout.Commit[..12]}) and {(changed == 1 ? "is" : "are")} not in the sandbox, which has the commit only; use --copy-in to include them";
    }

    private static async Task<int> CountAsync(Task<(int ExitCode, string Stdout)?> status) =>
        await status is (0, var statusText) ? CountStatusEntries(statusText) : 0;

    /// <summary>The top level of the git working tree around <paramref name="start"/>, or null when there is none.</summary>
    public static async Task<string?> FindRootAsync(string start, CancellationToken ct) =>
        await LocalGit.RunAsync(start, ["rev-parse", "--show-toplevel"], ct) is (0, var top) && top.Trim() is { Length: > 0 } root ? root : null;

    /// <summary>
    /// Entries of <c>git status --porcelain=v1 -z</c>: "XY path\0", where renames and copies carry their source path as
    /// one more NUL-terminated field.
    /// </summary>
    internal static int CountStatusEntries(string status)
    {
        var fields = status.Split('\0', StringSplitOptions.RemoveEmptyEntries);
        var count = 0;
        for (var i = 0; i < fields.Length; i++)
        {
            count++;
            if (fields[i].Length > 1 && (fields[i][0] is 'R' or 'C' || fields[i][1] is 'R' or 'C'))
            {
                i++; // the source path of the rename or copy
            }
        }

        return count;
    }
}
