using Cleanroom.HostProcesses;
using Cleanroom.Workspaces.Git;

namespace Cleanroom.Workspaces.Submodules;

/// <summary>
/// Reads a commit's <c>.gitmodules</c> with <c>git config --blob</c> (the file as committed, never the working tree's
/// copy). It is repository content, so names and paths are checked before they name anything on the host.
/// </summary>
internal static class GitModules
{
    /// <summary>Most bytes of <c>git config</c> output read; far more than 64 sections need.</summary>
    private const int MaxOutputChars = 1 << 20;

    /// <summary>The sections of <paramref name="commit"/>'s <c>.gitmodules</c> by path; empty when it has none.</summary>
    /// <returns>The entries, and git's complaint when the file exists but could not be read (for messages).</returns>
    public static async Task<(IReadOnlyDictionary<string, GitModulesEntry> Entries, string? Problem)> ReadAsync(
        string repository, string commit, TimeSpan timeout, CancellationToken ct)
    {
        var run = await HostGit.TryRunAsync(
            repository, isolated: true, ["config", "-z", "--blob", commit + ":.gitmodules", "--get-regexp", @"^submodule\..*\.(path|url)$"], timeout, ct);
        if (run.ExitCode == 1 || run.Stdout.Length == 0)
        {
            // 1: a file without such keys. Anything else without output: most often no .gitmodules at all.
            return (new Dictionary<string, GitModulesEntry>(StringComparer.Ordinal), run.ExitCode is 0 or 1 ? null : FirstLine(run.Stderr));
        }

        if (run.ExitCode != 0 || run.Stdout.Length > MaxOutputChars)
        {
            return (new Dictionary<string, GitModulesEntry>(StringComparer.Ordinal), FirstLine(run.Stderr));
        }

        return (Parse(run.Stdout), null);
    }

    /// <summary>Parses <c>-z</c> records (<c>KEY LF VALUE NUL</c>) into entries keyed by path; the last value of a key wins, as in git.</summary>
    internal static Dictionary<string, GitModulesEntry> Parse(string output)
    {
        var paths = new Dictionary<string, string>(StringComparer.Ordinal);
        var urls = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var record in output.Split('\0', StringSplitOptions.RemoveEmptyEntries))
        {
            var newline = record.IndexOf('\n', StringComparison.Ordinal);
            var key = newline < 0 ? record : record[..newline];
            var value = newline < 0 ? "" : record[(newline + 1)..];
            var lastDot = key.LastIndexOf('.');
            var name = key["submodule.".Length..lastDot];
            (key.EndsWith(".path", StringComparison.Ordinal) ? paths : urls)[name] = value;
        }

        var entries = new Dictionary<string, GitModulesEntry>(StringComparer.Ordinal);
        foreach (var (name, path) in paths)
        {
            var trimmed = path.TrimEnd('/');
            if (!entries.TryAdd(trimmed, new GitModulesEntry(name, trimmed, urls.GetValueOrDefault(name))))
            {
                // Two sections claiming one path: git would pick one; a build must not guess which.
                entries[trimmed] = entries[trimmed] with { Name = "" };
            }
        }

        return entries;
    }

    /// <summary>
    /// Whether <paramref name="relative"/> may name something under a directory: not empty, not absolute, no empty,
    /// <c>.</c> or <c>..</c> component, no control characters or backslashes.
    /// </summary>
    public static bool IsSafeRelativePath(string relative) =>
        relative.Length is > 0 and <= 4096
        && !relative.StartsWith('/')
        && !relative.Any(c => char.IsControl(c) || c == '\\')
        && relative.Split('/').All(part => part.Length > 0 && part != "." && part != "..");

    private static string FirstLine(string text) =>
        TextSanitizer.ToPrintable(text).Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault()?.Trim() ?? "";
}
