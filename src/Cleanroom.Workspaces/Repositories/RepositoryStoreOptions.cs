namespace Cleanroom.Workspaces.Repositories;

/// <summary>Where mirrors of remote repositories live, how big and old they may get, and how git reaches remotes.</summary>
public sealed class RepositoryStoreOptions
{
    /// <summary>Directory holding <c>&lt;key&gt;.git</c> bare mirrors, their <c>&lt;key&gt;.json</c> records, <c>locks/</c> and <c>tmp/</c>.</summary>
    public required string StoreDirectory { get; init; }

    /// <summary>What <see cref="RepositoryStore.PruneAsync(CancellationToken)"/> trims the store's mirrors to.</summary>
    public long MaxTotalBytes { get; init; } = 50L << 30;

    /// <summary>Mirrors unused for longer are removed by <see cref="RepositoryStore.PruneAsync(CancellationToken)"/>.</summary>
    public TimeSpan MaxAge { get; init; } = TimeSpan.FromDays(30);

    /// <summary>
    /// Largest a single mirror may grow: the mirror directory is measured while git fetches, and the fetch is killed
    /// past this, so a huge or hostile remote cannot fill the host's disk.
    /// </summary>
    public long MaxRepositoryBytes { get; init; } = 10L << 30;

    /// <summary>How long one fetch (or ls-remote) may run before it is killed.</summary>
    public TimeSpan FetchTimeout { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>How long a local git step (init, config, rev-parse) may run.</summary>
    public TimeSpan LocalTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Environment variables added to every git run of the store, on top of the daemon's own environment and the
    /// host's git configuration, e.g. <c>GIT_CONFIG_COUNT</c>/<c>GIT_CONFIG_KEY_0</c>/<c>GIT_CONFIG_VALUE_0</c> for an
    /// <c>http.extraHeader</c>, or <c>GIT_SSH_COMMAND</c>. Host-side only: none of it reaches a mirror's config, a
    /// record, a guest, or (values are scrubbed) an error message.
    /// </summary>
    public IReadOnlyDictionary<string, string> GitEnvironment { get; init; } = new Dictionary<string, string>();
}
