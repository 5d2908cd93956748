using Cleanroom.Workspaces.Git;
using Cleanroom.Workspaces.Repositories;

namespace Cleanroom.Workspaces.Submodules;

/// <summary>
/// Finds every submodule of a commit (recursively) on the host before anything is written: for a local repository
/// in its own module directories (<c>modules/NAME</c>) or an old-style <c>PATH/.git</c> directory, otherwise by
/// fetching its URL through the <see cref="RepositoryStore"/>. Each submodule's tree is counted against the image's
/// budgets as it is found. Anything that cannot be resolved fails the build naming the submodule's path and commit:
/// the user asked for submodules, so none is ever left silently empty.
/// </summary>
internal sealed class SubmoduleResolver
{
    private readonly WorkspaceStoreOptions _options;
    private readonly RepositoryStore? _repositories;
    private readonly Func<string, int, bool>? _fetchAllowed;
    private int _count;

    /// <summary>A resolver for one build; <paramref name="fetchAllowed"/> gates fetches (null: none).</summary>
    public SubmoduleResolver(WorkspaceStoreOptions options, RepositoryStore? repositories, Func<string, int, bool>? fetchAllowed)
    {
        _options = options;
        _repositories = repositories;
        _fetchAllowed = fetchAllowed;
    }

    /// <summary>True once a submodule was fetched from its remote (the repository store may want pruning).</summary>
    public bool Fetched { get; private set; }

    /// <summary>The whole image's tree: the superproject's and every submodule's, counted together.</summary>
    public TreeSummary Total { get; private set; } = new(0, 0, [], []);

    /// <summary>
    /// Resolves the submodules of <paramref name="commit"/> in <paramref name="repository"/>, whose tree scan is
    /// <paramref name="tree"/>; <paramref name="repositoryUrl"/> is the URL a mirror was fetched from (null for a
    /// local repository).
    /// </summary>
    public async Task<IReadOnlyList<ResolvedSubmodule>> ResolveAsync(
        string repository, string commit, TreeSummary tree, string? repositoryUrl, CancellationToken ct)
    {
        Total = tree;
        var local = repositoryUrl is null;
        string? worktree = null;
        string? modules = null;
        var url = repositoryUrl;
        if (local)
        {
            worktree = await TryGitAsync(repository, ["rev-parse", "--show-toplevel"], ct);
            modules = await TryGitAsync(repository, ["rev-parse", "--path-format=absolute", "--git-path", "modules"], ct);
            url = await TryGitAsync(repository, ["config", "--get", "remote.origin.url"], ct);
        }

        return await ResolveChildrenAsync(new Parent(repository, commit, "", worktree, modules, url), tree.Gitlinks, depth: 1, ct);
    }

    private async Task<IReadOnlyList<ResolvedSubmodule>> ResolveChildrenAsync(Parent parent, IReadOnlyList<Gitlink> gitlinks, int depth, CancellationToken ct)
    {
        if (gitlinks.Count == 0)
        {
            return [];
        }

        var (entries, problem) = await GitModules.ReadAsync(parent.Source, parent.Commit, _options.StepTimeout, ct);
        var resolved = new List<ResolvedSubmodule>();
        foreach (var gitlink in gitlinks)
        {
            var shown = parent.Prefix + gitlink.Path;
            if (depth > _options.MaxSubmoduleDepth)
            {
                throw Fail(WorkspaceErrorKind.TooLarge, shown, gitlink.Commit, $"submodules are nested more than {_options.MaxSubmoduleDepth} deep, the workspace limit");
            }

            if (++_count > _options.MaxSubmodules)
            {
                throw Fail(WorkspaceErrorKind.TooLarge, shown, gitlink.Commit, $"the image would hold more than {_options.MaxSubmodules} submodules, the workspace limit");
            }

            if (!entries.TryGetValue(gitlink.Path, out var entry))
            {
                throw Fail(shown, gitlink.Commit, "the commit's .gitmodules has no section with this path" + (problem is null ? "" : $" (git said: {problem})"));
            }

            if (entry.Name.Length == 0 || !GitModules.IsSafeRelativePath(entry.Name))
            {
                throw Fail(shown, gitlink.Commit, $"its .gitmodules name '{Printable(entry.Name)}' is not a plain relative name (or two sections claim the path)");
            }

            if (!GitModules.IsSafeRelativePath(gitlink.Path))
            {
                throw Fail(shown, gitlink.Commit, "its path is not a plain relative path");
            }

            if (resolved.Any(r => r.Name == entry.Name || r.Name.StartsWith(entry.Name + "/", StringComparison.Ordinal) || entry.Name.StartsWith(r.Name + "/", StringComparison.Ordinal)))
            {
                throw Fail(shown, gitlink.Commit, $"its .gitmodules name '{Printable(entry.Name)}' is, or contains, another submodule's");
            }

            var absoluteUrl = entry.Url is null ? null : SubmoduleUrl.Resolve(entry.Url, parent.Url);
            var (source, worktree, modules) = await FindAsync(parent, entry, gitlink, shown, absoluteUrl, ct);

            // Counted on top of everything before it, so the budgets hold for the whole image; the scan's gitlinks are
            // this tree's own.
            Total = await TreeScanner.ScanAsync(
                source, gitlink.Commit, _options.MaxTreeBytes, _options.MaxTreeEntries, _options.StepTimeout, ct, Total, keepListing: true);
            var listing = Total.Listing;
            var children = await ResolveChildrenAsync(
                new Parent(source, gitlink.Commit, shown + "/", worktree, modules, absoluteUrl), Total.Gitlinks, depth + 1, ct);
            resolved.Add(new ResolvedSubmodule(entry.Name, gitlink.Path, gitlink.Commit, source, children, listing));
        }

        return resolved;
    }

    /// <summary>A repository on the host holding the submodule's commit, its worktree (old-style only) and its module directory.</summary>
    private async Task<(string Source, string? Worktree, string? Modules)> FindAsync(
        Parent parent, GitModulesEntry entry, Gitlink gitlink, string shown, string? absoluteUrl, CancellationToken ct)
    {
        var worktree = parent.Worktree is null ? null : Path.Combine(parent.Worktree, gitlink.Path);
        if (parent.Modules is not null)
        {
            var moduleDirectory = Path.Combine(parent.Modules, entry.Name);
            if (Directory.Exists(moduleDirectory) && await HasCommitAsync(moduleDirectory, gitlink.Commit, ct))
            {
                return (moduleDirectory, worktree, Path.Combine(moduleDirectory, "modules"));
            }
        }

        if (worktree is not null)
        {
            var embedded = Path.Combine(worktree, ".git");
            if (Directory.Exists(embedded) && await HasCommitAsync(embedded, gitlink.Commit, ct))
            {
                return (embedded, worktree, Path.Combine(embedded, "modules"));
            }
        }

        if (entry.Url is null)
        {
            throw Fail(shown, gitlink.Commit, "it is not on this host and its .gitmodules section has no url");
        }

        if (absoluteUrl is null)
        {
            throw Fail(shown, gitlink.Commit, $"it is not on this host and its relative url '{Printable(entry.Url)}' cannot be resolved against the superproject's URL");
        }

        if (SubmoduleUrl.Refusal(absoluteUrl) is { } refusal)
        {
            throw Fail(shown, gitlink.Commit, $"it is not on this host and its url '{RepositoryUrl.Redact(absoluteUrl)}' is refused: {refusal}");
        }

        var parsed = RepositoryUrl.Parse(absoluteUrl);
        if (parsed.Host is null || _fetchAllowed is null || !_fetchAllowed(parsed.Host, parsed.Port))
        {
            // Checked before anything is fetched: the host's credentials never touch a destination the guest may not reach.
            throw Fail(
                shown,
                gitlink.Commit,
                $"it is not on this host, and its url '{RepositoryUrl.Redact(absoluteUrl)}' is not a destination the sandbox's network policy allows "
                + $"(the host fetches submodules with its own credentials only from those); allow {Printable(parsed.Host ?? "?")}:{parsed.Port} in network.allow, or check the submodule out in the local repository");
        }

        if (_repositories is null)
        {
            throw Fail(shown, gitlink.Commit, "it is not on this host and this store has no repository store to fetch it with");
        }

        MirroredCommit mirrored;
        try
        {
            mirrored = await _repositories.EnsureAsync(absoluteUrl, gitlink.Commit, ct);
        }
        catch (RepositoryException ex)
        {
            throw Fail(shown, gitlink.Commit, ex.Message, ex);
        }

        Fetched |= mirrored.Fetched;
        if (mirrored.Commit != gitlink.Commit)
        {
            throw Fail(shown, gitlink.Commit, $"{mirrored.Url} answered with another commit");
        }

        // A mirror's own module directory is never trusted: nested submodules are fetched from their URLs too.
        return (mirrored.MirrorPath, null, null);
    }

    private async Task<bool> HasCommitAsync(string repository, string commit, CancellationToken ct) =>
        (await HostGit.TryRunAsync(repository, isolated: true, ["cat-file", "-e", commit + "^{commit}"], _options.StepTimeout, ct)).ExitCode == 0;

    private async Task<string?> TryGitAsync(string repository, IReadOnlyList<string> args, CancellationToken ct)
    {
        var run = await HostGit.TryRunAsync(repository, isolated: false, args, _options.StepTimeout, ct);
        var value = run.Stdout.TrimEnd('\n');
        return run.ExitCode == 0 && value.Length > 0 && !value.Contains('\n', StringComparison.Ordinal) ? value : null;
    }

    private static WorkspaceException Fail(string path, string commit, string reason, Exception? inner = null) =>
        Fail(WorkspaceErrorKind.SubmoduleFailed, path, commit, reason, inner);

    private static WorkspaceException Fail(WorkspaceErrorKind kind, string path, string commit, string reason, Exception? inner = null) =>
        new(kind, $"Submodule '{Printable(path)}' at commit {commit} cannot be checked out: {reason}.", inner);

    private static string Printable(string text) => new([.. text.Take(200).Select(c => char.IsControl(c) ? '?' : c)]);

    /// <summary>A superproject (the repository or a submodule) whose submodules are being resolved.</summary>
    /// <param name="Source">The host repository holding its commit.</param>
    /// <param name="Commit">Its commit.</param>
    /// <param name="Prefix">Its path in the image, with a trailing slash ("" for the repository).</param>
    /// <param name="Worktree">Its checkout on the host, where old-style <c>PATH/.git</c> directories are looked for.</param>
    /// <param name="Modules">Its <c>modules</c> directory on the host, where module directories are looked for.</param>
    /// <param name="Url">Its URL, which relative submodule URLs resolve against.</param>
    private sealed record Parent(string Source, string Commit, string Prefix, string? Worktree, string? Modules, string? Url);
}
