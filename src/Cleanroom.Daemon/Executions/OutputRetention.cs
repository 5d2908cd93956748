using Cleanroom.Daemon.Sandboxes;
using Microsoft.Extensions.Logging;

namespace Cleanroom.Daemon.Executions;

/// <summary>
/// Deletes the output of executions that finished longer ago than the retention (their records stay), at start
/// and then periodically, so logs cannot pile up on the host forever.
/// </summary>
public sealed class OutputRetention(DaemonOptions options, ExecutionLogs logs, SandboxManager sandboxes, ILogger<OutputRetention> logger)
{
    /// <summary>How often the pruner runs: a quarter of the retention, between a minute and an hour.</summary>
    public TimeSpan Interval => TimeSpan.FromTicks(Math.Clamp(options.OutputRetention.Ticks / 4, TimeSpan.FromMinutes(1).Ticks, TimeSpan.FromHours(1).Ticks));

    public int PruneOnce()
    {
        var deleted = logs.Prune(DateTimeOffset.UtcNow - options.OutputRetention, id => sandboxes.FindRunner(id) is not null);
        if (deleted > 0)
        {
            logger.LogInformation("pruned the output of {Count} executions older than {Retention}", deleted, options.OutputRetention);
        }

        return deleted;
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(Interval);
        do
        {
            try
            {
                PruneOnce();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                logger.LogWarning("pruning execution output failed: {Reason}", ex.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
    }
}
