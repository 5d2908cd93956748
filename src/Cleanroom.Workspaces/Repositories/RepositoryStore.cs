using System.Collections.Concurrent;
using System.Diagnostics;
using Cleanroom.HostProcesses;
using Cleanroom.Workspaces.Build;

namespace Cleanroom.Workspaces.Repositories;

/// <summary>
/// Bare mirrors of remote repositories, fetched by host git with the host's credentials (which never reach a guest,
/// a mirror's config or a record) and reused by later runs; <see cref="WorkspaceImageStore"/> then builds a commit's
/// image from the mirror. Layout of <see cref="RepositoryStoreOptions.StoreDirectory"/>: <c>&lt;key&gt;.git</c> and
/// <c>&lt;key&gt;.json</c> per repository (key: a hash of the normalised URL), <c>locks/</c>, and <c>tmp/</c> for
/// first clones, which appear under their key only once their first fetch succeeded.
/// </summary>
public sealed class RepositoryStore
{
    private const string MirrorSuffix = ".git";
    private const string RecordSuffix = ".json";

    /// <summary>The mirror refspecs: every branch and tag as the remote has them, pruned when the remote deletes them.</summary>
    private static readonly string[] MirrorRefspecs = ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"];

    private static readonly TimeSpan CleanupTimeout = TimeSpan.FromMinutes(10);

    private readonly RepositoryStoreOptions _options;
    private readonly KeyLocks _locks;
    private readonly string _temp;
    private readonly RemoteGit _git;

    /// <summary>Per key, when the last successful fetch in this process started (a <see cref="Stopwatch"/> timestamp).</summary>
    private readonly ConcurrentDictionary<string, long> _fetchStarted = new(StringComparer.Ordinal);

    public RepositoryStore(RepositoryStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        Directory.CreateDirectory(options.StoreDirectory);
        _locks = new KeyLocks(Path.Combine(options.StoreDirectory, "locks"));
        _temp = Path.Combine(options.StoreDirectory, "tmp");
        _git = new RemoteGit(options.GitEnvironment);
    }

    /// <summary>
    /// Makes the commit <paramref name="commitish"/> names in the repository at <paramref name="url"/> available in
    /// the store's mirror, fetching unless it is a full commit id the mirror already has (that path never touches the
    /// network). An empty <paramref name="commitish"/> means the remote's default branch. Calls for one repository run
    /// one at a time (in this process and across processes), so concurrent callers fetch once between them. Throws
    /// <see cref="RepositoryException"/>.
    /// </summary>
    public async Task<MirroredCommit> EnsureAsync(string url, string? commitish, CancellationToken ct)
    {
        var remote = RepositoryUrl.Parse(url);
        var revision = RevisionName.Parse(commitish);
        var mirror = MirrorPath(remote.Key);
        var calledAt = Stopwatch.GetTimestamp();

        using (await _locks.AcquireAsync(remote.Key, ct))
        {
            await RemoveLeftoversAsync(remote.Key, mirror);

            if (revision.IsFullId && Directory.Exists(mirror) && await HasCommitAsync(mirror, revision.Value, ct))
            {
                await TouchAsync(remote, fetched: false, ct);
                return new MirroredCommit(mirror, revision.Value, Fetched: false, remote.Normalized);
            }

            // A fetch that started after this call did is as fresh as one this call would make: callers that queued
            // behind it share it instead of fetching once each.
            if (Directory.Exists(mirror) && _fetchStarted.TryGetValue(remote.Key, out var started) && started >= calledAt)
            {
                var shared = await ResolveAsync(mirror, remote, revision, ct);
                await TouchAsync(remote, fetched: false, ct);
                return new MirroredCommit(mirror, shared, Fetched: false, remote.Normalized);
            }

            var created = !Directory.Exists(mirror);
            var target = created ? Path.Combine(_temp, remote.Key + "-" + Guid.NewGuid().ToString("N")[..8]) : mirror;
            try
            {
                if (created)
                {
                    await InitAsync(target, ct);
                }

                // Every call sets the URL it was given: two spellings share the mirror, and the latest one is what works.
                await _git.RunCheckedAsync(target, ["config", "remote.origin.url", remote.FetchUrl], _options.LocalTimeout, ct);
                var fetchStarted = Stopwatch.GetTimestamp();
                await FetchAsync(target, remote, [.. MirrorRefspecs], ct);
                _fetchStarted[remote.Key] = fetchStarted;
                if (created)
                {
                    Directory.Move(target, mirror);
                    created = false;
                }
            }
            catch
            {
                if (created)
                {
                    await RemoveTreeAsync(target);
                }
                else
                {
                    // A killed fetch leaves temporary packs and ref locks; the mirror's refs were not moved, so it
                    // stays as usable as it was.
                    RemoveStaleFiles(mirror);
                }

                throw;
            }

            try
            {
                var commit = await ResolveAsync(mirror, remote, revision, ct);
                return new MirroredCommit(mirror, commit, Fetched: true, remote.Normalized);
            }
            finally
            {
                await TouchAsync(remote, fetched: true, CancellationToken.None);
            }
        }
    }

    /// <summary>The options the store was made with (its budget, for operators' views).</summary>
    public RepositoryStoreOptions Options => _options;

    /// <summary>Prunes to the configured <see cref="RepositoryStoreOptions.MaxTotalBytes"/> and <see cref="RepositoryStoreOptions.MaxAge"/>.</summary>
    public Task<RepositoryPruneResult> PruneAsync(CancellationToken ct) => PruneAsync(_options.MaxTotalBytes, _options.MaxAge, ct);

    /// <summary>
    /// Deletes mirrors unused for longer than <paramref name="maxAge"/>, then least-recently-used ones until the
    /// mirrors use at most <paramref name="maxBytes"/>. Mirrors being fetched are skipped. A mirror is only read
    /// (by an image build) after <see cref="EnsureAsync"/> returned, outside its lock, so prune while no build runs
    /// or with limits that leave recently used mirrors alone; a build that loses its mirror fails and can be retried.
    /// </summary>
    public Task<RepositoryPruneResult> PruneAsync(long maxBytes, TimeSpan maxAge, CancellationToken ct) =>
        PruneAsync(maxBytes, maxAge, dryRun: false, ct);

    /// <summary>
    /// <see cref="PruneAsync(long, TimeSpan, CancellationToken)"/>, or with <paramref name="dryRun"/> only what it would
    /// remove (mirrors being fetched count as removed: whether they would be skipped is decided at the time).
    /// </summary>
    public async Task<RepositoryPruneResult> PruneAsync(long maxBytes, TimeSpan maxAge, bool dryRun, CancellationToken ct)
    {
        var now = DateTime.UtcNow;
        var mirrors = ListMirrors();
        var total = mirrors.Sum(m => m.SizeBytes);
        var removedMirrors = new List<RepositoryMirrorInfo>();
        long freed = 0;
        foreach (var mirror in mirrors)
        {
            ct.ThrowIfCancellationRequested();
            if (total <= maxBytes && now - mirror.LastUseUtc <= maxAge)
            {
                continue;
            }

            if (!dryRun)
            {
                using var held = _locks.TryAcquire(mirror.Key);
                if (held is null)
                {
                    continue;
                }

                // Renamed first so a crash mid-delete leaves no half mirror under the key; tmp/ is swept later.
                var doomed = Path.Combine(_temp, mirror.Key + "-deleting-" + Guid.NewGuid().ToString("N")[..8]);
                Directory.CreateDirectory(_temp);
                Directory.Move(mirror.Path, doomed);
                File.Delete(RecordPath(mirror.Key));
                await RemoveTreeAsync(doomed);
            }

            total -= mirror.SizeBytes;
            freed += mirror.SizeBytes;
            removedMirrors.Add(mirror);
        }

        return new RepositoryPruneResult(removedMirrors, freed, total);
    }

    /// <summary>
    /// Every mirror with its URL, size on disk (measured now) and last use and fetch, least recently used first. A
    /// mirror whose record is missing or unreadable shows its key as its URL and its directory's mtime as its last use.
    /// </summary>
    public IReadOnlyList<RepositoryMirrorInfo> ListMirrors()
    {
        if (!Directory.Exists(_options.StoreDirectory))
        {
            return [];
        }

        return [.. Directory.EnumerateDirectories(_options.StoreDirectory, "*" + MirrorSuffix)
            .Select(path =>
            {
                var key = Path.GetFileName(path)[..^MirrorSuffix.Length];
                var record = MirrorRecord.TryRead(RecordPath(key));
                var lastUse = record?.LastUseUtc ?? Directory.GetLastWriteTimeUtc(path);
                return new RepositoryMirrorInfo(key, path, record?.Url ?? key, DirectorySize.Of(path), lastUse, record?.LastFetchUtc);
            })
            .OrderBy(m => m.LastUseUtc)];
    }

    /// <summary>Where the mirror of <paramref name="url"/> is (or would be); throws for a refused URL.</summary>
    public string MirrorPathOf(string url) => MirrorPath(RepositoryUrl.Parse(url).Key);

    /// <summary>
    /// The mirror of <paramref name="url"/> when the store has one, else null (also for a URL the store refuses).
    /// Always a directory directly in the store: its name is a hash of the normalised URL, so no spelling of a URL
    /// can name anything else.
    /// </summary>
    public string? FindMirror(string url)
    {
        RepositoryUrl remote;
        try
        {
            remote = RepositoryUrl.Parse(url);
        }
        catch (RepositoryException)
        {
            return null;
        }

        var path = MirrorPath(remote.Key);
        return Directory.Exists(path) ? path : null;
    }

    private string MirrorPath(string key) => Path.Combine(_options.StoreDirectory, key + MirrorSuffix);

    private string RecordPath(string key) => Path.Combine(_options.StoreDirectory, key + RecordSuffix);

    /// <summary>
    /// A bare repository without templates (no sample hooks), whose automatic gc runs in the foreground, inside the
    /// fetch's timeout and lock, instead of detaching into a process nobody waits for.
    /// </summary>
    private async Task InitAsync(string target, CancellationToken ct)
    {
        Directory.CreateDirectory(_temp);
        await _git.RunCheckedAsync(_temp, ["init", "-q", "--bare", "--template=", target], _options.LocalTimeout, ct);
        foreach (var (name, value) in new[] { ("gc.autoDetach", "false"), ("maintenance.autoDetach", "false"), ("core.logAllRefUpdates", "false") })
        {
            await _git.RunCheckedAsync(target, ["config", name, value], _options.LocalTimeout, ct);
        }

        await _git.RunCheckedAsync(target, ["config", "remote.origin.fetch", MirrorRefspecs[0]], _options.LocalTimeout, ct);
        await _git.RunCheckedAsync(target, ["config", "--add", "remote.origin.fetch", MirrorRefspecs[1]], _options.LocalTimeout, ct);
    }

    /// <summary>
    /// <c>git fetch --prune origin REFSPECS</c> with the mirror measured as it grows; throws with a scrubbed, specific
    /// error (authentication, size, other).
    /// </summary>
    private async Task FetchAsync(string target, RepositoryUrl remote, IReadOnlyList<string> refspecs, CancellationToken ct)
    {
        var run = await _git.RunAsync(
            target,
            ["fetch", "--quiet", "--prune", "--no-write-fetch-head", "origin", .. refspecs],
            _options.FetchTimeout,
            ct,
            () => DirectorySize.Of(target),
            _options.MaxRepositoryBytes);
        if (run.OverLimit)
        {
            throw new RepositoryException(
                RepositoryErrorKind.TooLarge,
                $"Fetching {remote.Normalized} was stopped: the mirror grew past the limit of {_options.MaxRepositoryBytes} bytes.");
        }

        if (run.ExitCode != 0)
        {
            throw FetchError(remote, run.Stderr);
        }

        // A fetch quicker than one poll is only measured now; the mirror stays (its refs moved) for prune to weigh.
        if (DirectorySize.Of(target) > _options.MaxRepositoryBytes)
        {
            throw new RepositoryException(
                RepositoryErrorKind.TooLarge,
                $"{remote.Normalized} is larger than the limit of {_options.MaxRepositoryBytes} bytes per repository.");
        }
    }

    private async Task<string> ResolveAsync(string mirror, RepositoryUrl remote, RevisionName revision, CancellationToken ct)
    {
        var tried = new List<string>();
        if (revision.IsDefault)
        {
            return await ResolveDefaultBranchAsync(mirror, remote, ct);
        }

        foreach (var reference in revision.CandidateRefs())
        {
            tried.Add(reference);
            if (await TryRevParseAsync(mirror, reference, ct) is { } id)
            {
                return id;
            }
        }

        if (revision.IsFullId)
        {
            tried.Add("commit " + revision.Value);
            if (await HasCommitAsync(mirror, revision.Value, ct))
            {
                return revision.Value;
            }

            // Not on any branch or tag (a pull request head, a deleted branch): ask for it by id, which servers that
            // allow fetching reachable or any commit ids (GitHub, GitLab, git with uploadpack.allow*SHA1InWant) answer.
            // It gets a ref of its own so a later gc keeps it and the warm path finds it.
            tried.Add("fetching commit " + revision.Value + " by id");
            var run = await _git.RunAsync(
                mirror,
                ["fetch", "--quiet", "--no-write-fetch-head", "origin", $"+{revision.Value}:refs/cleanroom/commits/{revision.Value}"],
                _options.FetchTimeout,
                ct,
                () => DirectorySize.Of(mirror),
                _options.MaxRepositoryBytes);
            if (run.ExitCode == 0 && !run.OverLimit && await HasCommitAsync(mirror, revision.Value, ct))
            {
                return revision.Value;
            }

            RemoveStaleFiles(mirror);
        }
        else if (revision.IsIdPrefix)
        {
            tried.Add("commit id prefix " + revision.Value);
            var run = await _git.RunAsync(
                mirror, ["rev-parse", "--verify", "--quiet", "--end-of-options", revision.Value + "^{commit}"], _options.LocalTimeout, ct);
            var id = run.Stdout.Trim();
            if (run.ExitCode == 0 && Git.CommitResolver.IsObjectId(id))
            {
                return id;
            }

            if (run.Stderr.Contains("ambiguous", StringComparison.OrdinalIgnoreCase))
            {
                throw new RepositoryException(
                    RepositoryErrorKind.UnknownRevision,
                    $"'{revision.Value}' is an ambiguous commit id prefix in {remote.Normalized}; give more digits or the full id.");
            }
        }

        throw new RepositoryException(
            RepositoryErrorKind.UnknownRevision,
            $"'{revision.Value}' names no branch, tag or commit of {remote.Normalized} (tried {string.Join(", ", tried)}).");
    }

    /// <summary>
    /// The remote's default branch, asked of the remote (<c>ls-remote --symref origin HEAD</c>) because a mirror's
    /// own HEAD is whatever <c>git init</c> chose; the mirror's HEAD is then pointed at it, for people inspecting it.
    /// </summary>
    private async Task<string> ResolveDefaultBranchAsync(string mirror, RepositoryUrl remote, CancellationToken ct)
    {
        var run = await _git.RunAsync(mirror, ["ls-remote", "--symref", "origin", "HEAD"], _options.FetchTimeout, ct);
        if (run.ExitCode != 0)
        {
            throw FetchError(remote, run.Stderr);
        }

        string? branch = null;
        string? head = null;
        foreach (var line in run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split('\t');
            if (parts.Length == 2 && parts[1] == "HEAD")
            {
                if (parts[0].StartsWith("ref: refs/heads/", StringComparison.Ordinal))
                {
                    branch = parts[0]["ref: ".Length..];
                }
                else if (Git.CommitResolver.IsObjectId(parts[0]))
                {
                    head = parts[0];
                }
            }
        }

        if (branch is not null && await TryRevParseAsync(mirror, branch, ct) is { } id)
        {
            await _git.RunAsync(mirror, ["symbolic-ref", "HEAD", branch], _options.LocalTimeout, ct);
            return id;
        }

        // A server that does not report the symref still names HEAD's commit, which the fetch brought if a branch has it.
        if (head is not null && await HasCommitAsync(mirror, head, ct))
        {
            return head;
        }

        throw new RepositoryException(
            RepositoryErrorKind.UnknownRevision,
            $"{remote.Normalized} has no default branch (its HEAD names no commit; the repository may be empty). Name a branch, tag or commit.");
    }

    private async Task<string?> TryRevParseAsync(string mirror, string reference, CancellationToken ct)
    {
        var run = await _git.RunAsync(mirror, ["rev-parse", "--verify", "--quiet", "--end-of-options", reference + "^{commit}"], _options.LocalTimeout, ct);
        var id = run.Stdout.Trim();
        return run.ExitCode == 0 && Git.CommitResolver.IsObjectId(id) ? id : null;
    }

    private async Task<bool> HasCommitAsync(string mirror, string id, CancellationToken ct) =>
        (await _git.RunAsync(mirror, ["cat-file", "-e", id + "^{commit}"], _options.LocalTimeout, ct)).ExitCode == 0;

    /// <summary>An error that says whether credentials were the problem, and quotes git only after scrubbing.</summary>
    private static RepositoryException FetchError(RepositoryUrl remote, string stderr)
    {
        string[] authentication =
        [
            "authentication failed", "could not read username", "could not read password", "terminal prompts disabled",
            "permission denied (publickey", "host key verification failed", "http 401", "http 403", "returned error: 401",
            "returned error: 403", "access denied", "invalid credentials",
        ];
        var said = RemoteGit.LastLines(stderr);
        if (authentication.Any(marker => stderr.Contains(marker, StringComparison.OrdinalIgnoreCase)))
        {
            return new RepositoryException(
                RepositoryErrorKind.AuthenticationFailed,
                $"Could not authenticate to {remote.Normalized}. Credentials come only from the host's git configuration (a " +
                "credential helper, http.extraHeader, an ssh key or agent) or the store's git environment, never from the URL " +
                $"or a prompt; set them up for this host and try again. git said:\n{said}");
        }

        return new RepositoryException(RepositoryErrorKind.FetchFailed, $"Fetching {remote.Normalized} failed. git said:\n{said}");
    }

    /// <summary>Refreshes the record: last use always, last fetch and size after a fetch. Never fails the caller.</summary>
    private async Task TouchAsync(RepositoryUrl remote, bool fetched, CancellationToken ct)
    {
        var path = RecordPath(remote.Key);
        var now = DateTime.UtcNow;
        var record = MirrorRecord.TryRead(path);
        var mirror = MirrorPath(remote.Key);
        if (!Directory.Exists(mirror))
        {
            return;
        }

        var updated = new MirrorRecord(
            remote.Normalized,
            fetched ? now : record?.LastFetchUtc ?? now,
            now,
            fetched || record is null ? DirectorySize.Of(mirror) : record.SizeBytes);
        try
        {
            await updated.WriteAsync(path, ct);
            Directory.SetLastWriteTimeUtc(mirror, now);
        }
        catch (IOException)
        {
            // The record is advisory (pruning falls back to the directory's mtime); a full disk must not fail a run.
        }
    }

    /// <summary>What a crashed or killed run for <paramref name="key"/> left; safe because the caller holds the key's lock.</summary>
    private async Task RemoveLeftoversAsync(string key, string mirror)
    {
        if (Directory.Exists(_temp))
        {
            foreach (var leftover in Directory.EnumerateDirectories(_temp, key + "-*"))
            {
                await RemoveTreeAsync(leftover);
            }
        }

        RemoveStaleFiles(mirror);
    }

    /// <summary>
    /// Lock files and temporary packs of a git process that was killed. Only git run by the store touches a mirror,
    /// and only under the key's lock, which the caller holds, so any of these is stale. No ref may end in ".lock",
    /// so deleting every such file cannot delete a ref.
    /// </summary>
    private static void RemoveStaleFiles(string mirror)
    {
        if (!Directory.Exists(mirror))
        {
            return;
        }

        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true };
        var stale = Directory.EnumerateFiles(mirror, "*.lock", options)
            .Concat(Directory.EnumerateFiles(Path.Combine(mirror, "objects"), "tmp_*", options))
            .ToList();
        foreach (var file in stale)
        {
            File.Delete(file);
        }
    }

    /// <summary><c>rm -rf</c>, as the image store does: one process, and names .NET could not decode are no obstacle.</summary>
    private static async Task RemoveTreeAsync(string path)
    {
        if (Directory.Exists(path))
        {
            await HostCommand.RunAsync("rm", ["-rf", "--one-file-system", "--", path], CleanupTimeout, CancellationToken.None);
        }
    }
}
