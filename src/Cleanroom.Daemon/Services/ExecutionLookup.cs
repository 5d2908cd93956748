using Cleanroom.Api.V1;
using Cleanroom.Daemon.Sandboxes;
using Cleanroom.Daemon.State;

namespace Cleanroom.Daemon.Services;

/// <summary>
/// GetExecution and ListExecutions: one execution by its id (ids are the executions table's primary key, so unique
/// across sandboxes and the sandbox is optional), or the newest executions of one sandbox or of all in one bounded query.
/// </summary>
internal sealed class ExecutionLookup(SandboxManager sandboxes, StateStore store)
{
    /// <summary>What a request with no limit gets.</summary>
    public const int DefaultLimit = 100;

    /// <summary>The most one answer holds, whatever the client asks: an answer is built in memory.</summary>
    public const int MaxLimit = 1000;

    public ExecutionRecord Get(GetExecutionRequest request)
    {
        var execution = Find(request.ExecutionId);
        if (request.SandboxId.Length > 0 && execution.SandboxId != request.SandboxId)
        {
            throw DaemonException.ExecutionNotFound(request.ExecutionId, request.SandboxId);
        }

        return execution;
    }

    public ListExecutionsResponse List(ListExecutionsRequest request)
    {
        if (request.Limit < 0)
        {
            throw DaemonException.InvalidArgument($"limit {request.Limit} is negative; give 1 to {MaxLimit}, or 0 for {DefaultLimit}");
        }

        var limit = request.Limit == 0 ? DefaultLimit : Math.Min(request.Limit, MaxLimit);
        string? sandboxId = request.SandboxId.Length == 0 ? null : sandboxes.Get(request.SandboxId).Id;

        // One more row than asked tells whether the answer is cut. A runner writes every change of its record through
        // to the store under its own lock, so the rows are as current as the runners' records: no per-sandbox lookups.
        var rows = store.ListNewestExecutions(sandboxId, unfinishedOnly: !request.All, limit + 1);
        var response = new ListExecutionsResponse { Truncated = rows.Count > limit };
        response.Executions.AddRange(rows.Take(limit).Select(e => e.ToProto()));
        return response;
    }

    /// <summary>The live record of a running execution, else the stored one.</summary>
    public ExecutionRecord Find(string executionId) =>
        sandboxes.FindRunner(executionId)?.Record
        ?? (Ids.IsValid(executionId) ? store.GetExecution(executionId) : null)
        ?? throw DaemonException.ExecutionNotFound(executionId);
}
