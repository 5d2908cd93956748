using Cleanroom.HostProcesses;

namespace Cleanroom.Workspaces.Git;

/// <summary>Turns a user's revision (HEAD, a branch, a tag, a short id) into the full commit id, with errors a user can act on.</summary>
internal static class CommitResolver
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(1);

    /// <summary>The full object id of the commit <paramref name="commitish"/> names in <paramref name="repositoryPath"/>.</summary>
    public static async Task<string> ResolveAsync(string repositoryPath, string commitish, CancellationToken ct)
    {
        if (!Directory.Exists(repositoryPath))
        {
            throw new WorkspaceException(WorkspaceErrorKind.NotARepository, $"'{repositoryPath}' does not exist or is not a directory.");
        }

        // A leading dash would be read as an option, not a revision.
        if (commitish.Length == 0 || commitish.StartsWith('-') || commitish.Any(char.IsControl))
        {
            throw new WorkspaceException(WorkspaceErrorKind.UnknownRevision, $"'{commitish}' is not a valid revision name.");
        }

        // One git run decides both: exit 128 with "not a git repository" when there is no repository, 1 (with --quiet,
        // silently) when the name resolves to no commit. The warm path pays for exactly this one process.
        var result = await HostGit.TryRunAsync(
            repositoryPath, isolated: false, ["rev-parse", "--verify", "--quiet", "--end-of-options", commitish + "^{commit}"], Timeout, ct);
        var id = result.Stdout.Trim();
        if (result.ExitCode == 0 && IsObjectId(id))
        {
            return id;
        }

        if (result.ExitCode != 1 || result.Stderr.Contains("not a git repository", StringComparison.OrdinalIgnoreCase))
        {
            throw new WorkspaceException(
                WorkspaceErrorKind.NotARepository,
                $"'{repositoryPath}' is not in a git repository git can open: {FirstLine(result.Stderr)} Run it from a repository's working tree.");
        }

        throw new WorkspaceException(
            WorkspaceErrorKind.UnknownRevision,
            $"'{commitish}' names no commit in '{repositoryPath}'" +
            (commitish == "HEAD" ? " (the repository has no commits yet; commit something first)." : "; check the spelling or fetch it first."));
    }

    /// <summary>True for a full SHA-1 or SHA-256 object id in lower-case hex.</summary>
    public static bool IsObjectId(string value) =>
        value.Length is 40 or 64 && value.All(c => c is (>= '0' and <= '9') or (>= 'a' and <= 'f'));

    private static string FirstLine(string text)
    {
        var line = TextSanitizer.ToPrintable(text).Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault()?.Trim() ?? "";
        return line.Length == 0 ? "" : line.TrimEnd('.') + ".";
    }
}
