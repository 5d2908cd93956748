using Cleanroom.Api.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace Cleanroom.Cli.Tests.FakeDaemon;

/// <summary>The fake daemon's ExecutionService: runs <see cref="FakeBehaviours"/> instead of guest processes.</summary>
internal sealed class FakeExecutionService(FakeDaemonState state) : ExecutionService.ExecutionServiceBase
{
    public override Task<CreateExecutionResponse> CreateExecution(CreateExecutionRequest request, ServerCallContext context)
    {
        state.Log("CreateExecution");
        return Task.FromResult(new CreateExecutionResponse { Execution = Create(request) });
    }

    /// <summary>As the daemon: the created execution first, then what StreamExecution would send. Unimplemented while
    /// <see cref="FakeDaemonState.WithoutRunExecution"/> is set, as in a daemon older than the call.</summary>
    public override async Task RunExecution(CreateExecutionRequest request, IServerStreamWriter<ExecutionStreamEvent> responseStream, ServerCallContext context)
    {
        state.Log("RunExecution");
        if (state.WithoutRunExecution)
        {
            throw new RpcException(new Status(StatusCode.Unimplemented, "unknown method RunExecution"));
        }

        var record = Create(request);
        await responseStream.WriteAsync(new ExecutionStreamEvent { SandboxId = record.SandboxId, ExecutionId = record.ExecutionId, Status = record.Status, Created = record }, context.CancellationToken);
        if (FakeOutputLog.Serves(request))
        {
            await FakeOutputLog.ServeAsync(request, record, state.Directory, responseStream, context.CancellationToken);
            return;
        }

        await WriteOutputAsync(Find(record.ExecutionId), responseStream, context.CancellationToken);
    }

    private Execution Create(CreateExecutionRequest request)
    {
        if (!state.Sandboxes.TryGetValue(request.SandboxId, out var sandbox))
        {
            throw new RpcException(new Status(StatusCode.NotFound, $"unknown sandbox {request.SandboxId}"));
        }

        if (sandbox.Status != SandboxStatus.Ready || request.Command[0] == "refuse")
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, $"sandbox {sandbox.SandboxId} is not ready"));
        }

        var record = new Execution
        {
            ExecutionId = state.NextId("e"),
            SandboxId = sandbox.SandboxId,
            Status = ExecutionStatus.Running,
            Kind = request.Kind,
            Tty = request.Options?.Tty ?? false,
            CreatedAt = Timestamp.FromDateTime(DateTime.UtcNow),
        };
        record.Command.AddRange(request.Command);
        var execution = new FakeExecution(record, request);
        state.Executions[record.ExecutionId] = execution;
        sandbox.LastExecutionId = record.ExecutionId;
        var created = record.Clone();
        _ = Task.Run(() => FakeBehaviours.RunAsync(execution, state));
        state.StartedSource(string.Join(' ', request.Command)).TrySetResult(execution);
        return created;
    }

    public override Task<GetExecutionResponse> GetExecution(GetExecutionRequest request, ServerCallContext context)
    {
        state.GetExecutionRequests.Enqueue(request);
        var execution = Find(request.ExecutionId).Snapshot();
        return request.SandboxId.Length > 0 && request.SandboxId != execution.SandboxId
            ? throw new RpcException(new Status(StatusCode.NotFound, $"execution_not_found: unknown execution {request.ExecutionId} in sandbox {request.SandboxId}"))
            : Task.FromResult(new GetExecutionResponse { Execution = execution });
    }

    /// <summary>As the daemon answers: newest first, of one sandbox or all, running only unless all, bounded.</summary>
    public override Task<ListExecutionsResponse> ListExecutions(ListExecutionsRequest request, ServerCallContext context)
    {
        state.ListExecutionsRequests.Enqueue(request);
        var limit = request.Limit == 0 ? 100 : Math.Min(request.Limit, 1000);
        var matching = state.Executions.Values.Select(e => e.Snapshot())
            .Where(e => request.SandboxId.Length == 0 || e.SandboxId == request.SandboxId)
            .Where(e => request.All || e.Status is ExecutionStatus.Queued or ExecutionStatus.Running)
            .OrderByDescending(e => e.CreatedAt.ToDateTime()).ThenByDescending(e => e.ExecutionId, StringComparer.Ordinal)
            .ToList();
        var response = new ListExecutionsResponse { Truncated = matching.Count > limit };
        response.Executions.AddRange(matching.Take(limit));
        return Task.FromResult(response);
    }

    public override Task<CancelExecutionResponse> CancelExecution(CancelExecutionRequest request, ServerCallContext context)
    {
        var execution = Find(request.ExecutionId);
        execution.Signals.Writer.TryWrite(request.Signal);
        return Task.FromResult(new CancelExecutionResponse
        {
            SandboxId = request.SandboxId,
            ExecutionId = request.ExecutionId,
            Accepted = true,
            Status = execution.Snapshot().Status,
        });
    }

    public override async Task StreamExecution(StreamExecutionRequest request, IServerStreamWriter<ExecutionStreamEvent> responseStream, ServerCallContext context)
    {
        state.Log("StreamExecution");
        state.StreamExecutionRequests.Enqueue(request);
        await WriteOutputAsync(Find(request.ExecutionId), responseStream, context.CancellationToken);
    }

    private static async Task WriteOutputAsync(FakeExecution execution, IServerStreamWriter<ExecutionStreamEvent> responseStream, CancellationToken cancellationToken)
    {
        await foreach (var message in execution.Output.Reader.ReadAllAsync(cancellationToken))
        {
            await responseStream.WriteAsync(message, cancellationToken);
        }
    }

    public override Task<WriteExecutionStdinResponse> WriteExecutionStdin(WriteExecutionStdinRequest request, ServerCallContext context)
    {
        Running(request.ExecutionId).AppendStdin(request.Data.Span);
        return Task.FromResult(new WriteExecutionStdinResponse());
    }

    public override Task<CloseExecutionStdinResponse> CloseExecutionStdin(CloseExecutionStdinRequest request, ServerCallContext context)
    {
        Running(request.ExecutionId).StdinClosed.TrySetResult();
        return Task.FromResult(new CloseExecutionStdinResponse());
    }

    private FakeExecution Running(string id)
    {
        var execution = Find(id);
        return execution.Snapshot().Status == ExecutionStatus.Running
            ? execution
            : throw new RpcException(new Status(StatusCode.FailedPrecondition, $"execution {id} is not running"));
    }

    private FakeExecution Find(string id) =>
        state.Executions.TryGetValue(id, out var execution) ? execution : throw new RpcException(new Status(StatusCode.NotFound, $"unknown execution {id}"));
}
