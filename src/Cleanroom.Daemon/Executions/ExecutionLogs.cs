using Microsoft.Extensions.Logging;

namespace Cleanroom.Daemon.Executions;

/// <summary>
/// Where executions' output lives: <c>&lt;state&gt;/executions/&lt;sandbox&gt;/&lt;execution&gt;.log</c>, so a
/// sandbox's logs are removed with it in one step, and finished logs older than the retention are pruned.
/// </summary>
public sealed class ExecutionLogs
{
    private readonly string _root;
    private readonly ILogger _logger;

    public ExecutionLogs(string stateDir, ILogger<ExecutionLogs> logger)
    {
        _root = Path.Combine(stateDir, "executions");
        _logger = logger;
        Directory.CreateDirectory(_root);
    }

    public string PathOf(string sandboxId, string executionId) => Path.Combine(_root, sandboxId, executionId + ".log");

    /// <summary>A new, empty log for an execution about to start.</summary>
    public OutputLog Create(string sandboxId, string executionId)
    {
        Directory.CreateDirectory(Path.Combine(_root, sandboxId));
        try
        {
            return OutputLog.Create(PathOf(sandboxId, executionId));
        }
        catch (DirectoryNotFoundException)
        {
            // A prune removed the (then empty) directory in between.
            Directory.CreateDirectory(Path.Combine(_root, sandboxId));
            return OutputLog.Create(PathOf(sandboxId, executionId));
        }
    }

    public OutputLog OpenFinished(string sandboxId, string executionId) => OutputLog.OpenFinished(PathOf(sandboxId, executionId));

    /// <summary>The log of a command an earlier daemon left running, to go on appending to it (see <see cref="OutputLog.Continue"/>).</summary>
    public OutputLog Continue(string sandboxId, string executionId)
    {
        Directory.CreateDirectory(Path.Combine(_root, sandboxId));
        return OutputLog.Continue(PathOf(sandboxId, executionId));
    }

    /// <summary>Removes every log of a sandbox (it was removed).</summary>
    public void DeleteSandbox(string sandboxId)
    {
        var dir = Path.Combine(_root, sandboxId);
        try
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _logger.LogWarning("could not delete the output of sandbox {Id}: {Reason}", sandboxId, ex.Message);
        }
    }

    /// <summary>Removes one execution's log, if it still has one (its record was pruned).</summary>
    public void Delete(string sandboxId, string executionId)
    {
        try
        {
            File.Delete(PathOf(sandboxId, executionId));
        }
        catch (DirectoryNotFoundException)
        {
            // The sandbox's logs went already (with its record, or a prune of empty directories): nothing to delete.
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _logger.LogWarning("could not delete the output of execution {Id}: {Reason}", executionId, ex.Message);
        }
    }

    /// <summary>
    /// Deletes logs last written before <paramref name="cutoff"/>, except those <paramref name="isRunning"/> claims,
    /// and sandbox directories left empty. Returns how many logs were deleted.
    /// </summary>
    public int Prune(DateTimeOffset cutoff, Func<string, bool> isRunning)
    {
        var deleted = 0;
        foreach (var file in Directory.EnumerateFiles(_root, "*.log", SearchOption.AllDirectories))
        {
            try
            {
                var executionId = Path.GetFileNameWithoutExtension(file);
                if (File.GetLastWriteTimeUtc(file) < cutoff.UtcDateTime && !isRunning(executionId))
                {
                    File.Delete(file);
                    deleted++;
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                _logger.LogWarning("could not prune {File}: {Reason}", file, ex.Message);
            }
        }

        foreach (var dir in Directory.EnumerateDirectories(_root))
        {
            if (!Directory.EnumerateFileSystemEntries(dir).Any())
            {
                try
                {
                    Directory.Delete(dir);
                }
                catch (IOException)
                {
                    // A new execution just created its log there.
                }
            }
        }

        return deleted;
    }
}
