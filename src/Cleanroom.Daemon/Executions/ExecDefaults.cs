using Cleanroom.Oci;

namespace Cleanroom.Daemon.Executions;

/// <summary>
/// Fills an execution's unset parts from the image config, the way a user of OCI images expects: the image's Env
/// (PATH above all) under the request's own variables and over the daemon's (the gateway's), its WorkingDir and User unless the request names others.
/// A given command runs as is; the image's Entrypoint + Cmd run only when no command is given.
/// </summary>
public static class ExecDefaults
{
    public static IReadOnlyList<string> Command(IReadOnlyList<string> requested, RunDefaults image)
    {
        if (requested.Count > 0)
        {
            return requested;
        }

        var fallback = (image.Entrypoint ?? []).Concat(image.Cmd ?? []).ToList();
        return fallback.Count > 0
            ? fallback
            : throw DaemonException.InvalidArgument("missing command: give the program to run and its arguments (the image has no Entrypoint or Cmd)");
    }

    /// <summary>
    /// The image's variables overridden, key by key, by the request's; <paramref name="beneath"/> (the daemon's own,
    /// such as the gateway's) go under both, so an image or a user can always set them otherwise; the daemon's git
    /// configuration pairs are the exception, appended after theirs so both apply.
    /// </summary>
    public static List<string> Env(IEnumerable<string> requested, RunDefaults image, IEnumerable<string>? beneath = null)
    {
        // The daemon's git configuration pairs are appended after the image's and the job's own instead of being
        // merged key by key, where a job's GIT_CONFIG_COUNT would silently drop them (see GitConfigEntries).
        var daemon = (beneath ?? []).ToList();
        var daemonGit = GitConfigEntries.Pairs(daemon);
        var merged = Merge(daemon.Where(entry => !GitConfigEntries.IsGitConfig(Name(entry))).Concat(image.Env ?? []).Concat(requested));
        GitConfigEntries.AppendTo(merged, daemonGit);
        return merged;
    }

    private static string Name(string entry)
    {
        var equals = entry.IndexOf('=', StringComparison.Ordinal);
        return equals > 0 ? entry[..equals] : entry;
    }

    private static List<string> Merge(IEnumerable<string> entries)
    {
        var merged = new List<string>();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            var equals = entry.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                continue;
            }

            var key = entry[..equals];
            if (index.TryGetValue(key, out var at))
            {
                merged[at] = entry;
            }
            else
            {
                index[key] = merged.Count;
                merged.Add(entry);
            }
        }

        return merged;
    }

    public static string Cwd(string requested, RunDefaults image) =>
        requested.Length > 0 ? requested : image.WorkingDir ?? "";

    public static string User(string requested, RunDefaults image) =>
        requested.Length > 0 ? requested : image.User ?? "";
}
