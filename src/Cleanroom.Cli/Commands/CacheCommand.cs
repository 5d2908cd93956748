using System.CommandLine;

namespace Cleanroom.Cli.Commands;

/// <summary>
/// <c>cleanroom cache</c>: the daemon's content cache (what the gateway serves repeated fetches from) and its repository
/// mirrors (what <c>exec --repo-url</c> fetches into and the gateway's git route falls back on).
/// </summary>
internal sealed class CacheCommand : Command
{
    public CacheCommand(CliContext context, DaemonAccess daemon)
        : base("cache", "Show, list and prune the gateway's content cache and the repository mirrors")
    {
        Add(new CacheStatsCommand(context, daemon));
        Add(new CacheLsCommand(context, daemon));
        Add(new CachePruneCommand(context, daemon));
    }
}
