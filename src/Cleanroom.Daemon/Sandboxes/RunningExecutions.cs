using System.Collections.Concurrent;
using Cleanroom.Daemon.Executions;

namespace Cleanroom.Daemon.Sandboxes;

/// <summary>
/// Every running execution of the live sandboxes by its id, beside each sandbox's own set: streaming, cancelling,
/// looking up and pruning find a runner in one step instead of asking every sandbox in turn. A runner leaves both when
/// it finishes; the index also lets go of a forgotten sandbox's runners, which were never found once their sandbox
/// was gone.
/// </summary>
internal sealed class RunningExecutions
{
    private readonly ConcurrentDictionary<string, ExecutionRunner> _byId = new();

    /// <summary>Adds a runner to its sandbox's set and to the index until it finishes.</summary>
    public void Add(SandboxEntry entry, string id, ExecutionRunner runner)
    {
        entry.Executions[id] = runner;
        _byId[id] = runner;
        _ = runner.Finished.ContinueWith(
            _ =>
            {
                entry.Executions.TryRemove(new KeyValuePair<string, ExecutionRunner>(id, runner));
                _byId.TryRemove(new KeyValuePair<string, ExecutionRunner>(id, runner));
            },
            TaskScheduler.Default);
    }

    /// <summary>
    /// The runner of a running execution, or null when it finished (then the store has it), also in the moment before
    /// the runner has left the index.
    /// </summary>
    public ExecutionRunner? Find(string id) => _byId.TryGetValue(id, out var runner) && !runner.Finished.IsCompleted ? runner : null;

    /// <summary>Drops a forgotten sandbox's runners from the index (a runner that never finished must not outlive it here).</summary>
    public void Forget(SandboxEntry entry)
    {
        foreach (var (id, runner) in entry.Executions)
        {
            _byId.TryRemove(new KeyValuePair<string, ExecutionRunner>(id, runner));
        }
    }
}
