using Cleanroom.Daemon.Executions;
using Cleanroom.Daemon.Sandboxes;
using Microsoft.Extensions.Logging;

namespace Cleanroom.Daemon.State;

/// <summary>
/// Deletes what ages out, at start and then periodically, so neither logs nor records pile up on the host forever:
/// the output of executions that finished longer ago than <see cref="DaemonOptions.OutputRetention"/> (their records
/// stay), then the records of sandboxes and executions that ended longer ago than
/// <see cref="DaemonOptions.RecordRetention"/> or beyond the newest <see cref="DaemonOptions.MaxEndedSandboxRecords"/>
/// and <see cref="DaemonOptions.MaxFinishedExecutionRecords"/>, with any output they still have.
/// </summary>
public sealed class Retention(DaemonOptions options, StateStore store, ExecutionLogs logs, SandboxManager sandboxes, ILogger<Retention> logger)
{
    /// <summary>How often the pruner runs: a quarter of the shorter retention, between a minute and an hour.</summary>
    public TimeSpan Interval
    {
        get
        {
            var shorter = options.OutputRetention < options.RecordRetention ? options.OutputRetention : options.RecordRetention;
            return TimeSpan.FromTicks(Math.Clamp(shorter.Ticks / 4, TimeSpan.FromMinutes(1).Ticks, TimeSpan.FromHours(1).Ticks));
        }
    }

    /// <summary>Prunes once, ages counted back from <paramref name="now"/>; returns how many logs aged out and which records went.</summary>
    public (int Logs, PrunedRecords Records) PruneOnce(DateTimeOffset now)
    {
        var deleted = logs.Prune(now - options.OutputRetention, id => sandboxes.FindRunner(id) is not null);
        if (deleted > 0)
        {
            logger.LogInformation("pruned the output of {Count} executions older than {Retention}", deleted, options.OutputRetention);
        }

        var records = store.PruneRecords(now - options.RecordRetention, options.MaxEndedSandboxRecords, options.MaxFinishedExecutionRecords);
        foreach (var sandbox in records.Sandboxes)
        {
            logs.DeleteSandbox(sandbox);
        }

        foreach (var (sandbox, execution) in records.Executions)
        {
            logs.Delete(sandbox, execution);
        }

        if (records.Sandboxes.Count + records.Executions.Count > 0)
        {
            logger.LogInformation(
                "pruned the records of {Sandboxes} ended sandboxes and {Executions} finished executions (older than {Retention}, or past the newest {MaxSandboxes} and {MaxExecutions})",
                records.Sandboxes.Count, records.Executions.Count, options.RecordRetention, options.MaxEndedSandboxRecords, options.MaxFinishedExecutionRecords);
        }

        return (deleted, records);
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(Interval);
        do
        {
            try
            {
                PruneOnce(DateTimeOffset.UtcNow);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or Microsoft.Data.Sqlite.SqliteException)
            {
                logger.LogWarning("pruning old output and records failed: {Reason}", ex.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
    }
}
