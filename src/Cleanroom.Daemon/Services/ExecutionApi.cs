using Cleanroom.Api.V1;
using Cleanroom.Daemon.Executions;
using Cleanroom.Daemon.Sandboxes;
using Cleanroom.Daemon.State;
using Cleanroom.Guest.Wire;
using Cleanroom.Guest.Wire.Messages;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace Cleanroom.Daemon.Services;

/// <summary>cleanroom.v1.ExecutionService: starts commands, relays stdin and signals, streams logged output.</summary>
internal sealed class ExecutionApi(SandboxManager sandboxes, StateStore store, Hosting.DaemonGateway gateway) : ExecutionService.ExecutionServiceBase
{
    private const int MaxStdinChunk = 1024 * 1024;

    private readonly ExecutionLookup _lookup = new(sandboxes, store);

    public override async Task<CreateExecutionResponse> CreateExecution(CreateExecutionRequest request, ServerCallContext context)
    {
        if (request.ReadOutputLog)
        {
            throw DaemonException.InvalidArgument("read_output_log is for RunExecution only: CreateExecution streams nothing");
        }

        var sandbox = sandboxes.Get(request.SandboxId);
        using var hold = sandboxes.Hold(sandbox.Id);
        var runner = await StartAsync(sandbox, request, context);
        return new CreateExecutionResponse { Execution = runner.Record.ToProto() };
    }

    /// <summary>
    /// CreateExecution and StreamExecution (from the start, following) in one call: one round trip less for every
    /// command a client runs and waits for. The sandbox is held for the whole call, as by the two.
    /// </summary>
    public override async Task RunExecution(CreateExecutionRequest request, IServerStreamWriter<ExecutionStreamEvent> responseStream, ServerCallContext context)
    {
        var sandbox = sandboxes.Get(request.SandboxId);
        using var hold = sandboxes.Hold(sandbox.Id);
        var runner = await StartAsync(sandbox, request, context);
        var record = runner.Record;
        var created = NewEvent(record);
        created.Created = record.ToProto();
        await responseStream.WriteAsync(created, context.CancellationToken);
        if (request.ReadOutputLog && CallOrigin.IsUnixSocket(context) && LogFileIdentity.Of(runner.Log.Path) is { } identity)
        {
            await WriteLogLengthsAsync(runner, record, identity, responseStream, context.CancellationToken);
            return;
        }

        await WriteOutputAsync(runner, record, follow: true, offset: 0, responseStream, context.CancellationToken);
    }

    /// <summary>
    /// For a client on this host that reads the output log itself: where the file is, then how much of it holds whole
    /// records each time that grows (values that come while the socket is busy go as one), then the exit event. The
    /// output's bytes never cross the socket: the client reads them from the page cache.
    /// </summary>
    private static async Task WriteLogLengthsAsync(ExecutionRunner runner, ExecutionRecord record, (ulong Device, ulong Inode) identity, IServerStreamWriter<ExecutionStreamEvent> responseStream, CancellationToken cancellationToken)
    {
        var location = NewEvent(record);
        location.OutputLog = new OutputLogFile { Path = runner.Log.Path, Device = identity.Device, Inode = identity.Inode };
        await responseStream.WriteAsync(location, cancellationToken);
        await foreach (var length in runner.Log.FollowLengthAsync(cancellationToken))
        {
            var grown = NewEvent(record);
            grown.OutputLogLength = length;
            await responseStream.WriteAsync(grown, cancellationToken);
        }

        await WriteExitAsync(await runner.Finished.WaitAsync(cancellationToken), responseStream, cancellationToken);
    }

    private async Task<ExecutionRunner> StartAsync(SandboxRecord sandbox, CreateExecutionRequest request, ServerCallContext context)
    {
        var defaults = sandboxes.ImageDefaults(sandbox);
        var command = ExecDefaults.Command(request.Command.SkipWhile((arg, i) => i == 0 && arg == "--").ToList(), defaults);
        if (command[0].Length == 0)
        {
            throw DaemonException.InvalidArgument("missing command: give the program to run and its arguments");
        }

        var options = request.Options ?? new ExecutionOptions();
        foreach (var entry in options.Env)
        {
            if (entry.IndexOf('=', StringComparison.Ordinal) <= 0)
            {
                throw DaemonException.InvalidArgument($"invalid environment entry '{entry}': expected KEY=VALUE");
            }
        }

        // A sandbox with a network reaches the gateway while it runs: its variables go under the image's and the request's.
        var gatewayEnv = sandboxes.Egress(sandbox.Id) is { } egress ? gateway.Environment(egress.Policy, egress.AllowAll) : [];
        var exec = new ExecRequest
        {
            Argv = command.ToList(),
            Env = ExecDefaults.Env(options.Env, defaults, gatewayEnv),
            // A repository's checkout is where a CI job expects to start; the image's WorkingDir is for images run bare.
            Cwd = ExecDefaults.Cwd(options.Cwd, sandbox.Workspace is { } workspace ? defaults with { WorkingDir = workspace.Path } : defaults),
            User = ExecDefaults.User(options.User, defaults),
            Tty = options.Tty,
            Cols = (ushort)Math.Clamp(options.Cols, 0, ushort.MaxValue),
            Rows = (ushort)Math.Clamp(options.Rows, 0, ushort.MaxValue),
        };
        return await sandboxes.StartExecutionAsync(request.SandboxId, exec, options.AttachStdin, context.CancellationToken);
    }

    public override Task<GetExecutionResponse> GetExecution(GetExecutionRequest request, ServerCallContext context) =>
        Task.FromResult(new GetExecutionResponse { Execution = _lookup.Get(request).ToProto() });

    public override Task<ListExecutionsResponse> ListExecutions(ListExecutionsRequest request, ServerCallContext context) =>
        Task.FromResult(_lookup.List(request));

    public override async Task<CancelExecutionResponse> CancelExecution(CancelExecutionRequest request, ServerCallContext context)
    {
        var signal = request.Signal == 0 ? 15 : request.Signal;
        if (signal is < 1 or > 64)
        {
            throw DaemonException.InvalidArgument($"invalid signal {request.Signal}");
        }

        var runner = sandboxes.FindRunner(request.ExecutionId);
        var record = InSandbox(runner?.Record ?? Find(request.ExecutionId), request.SandboxId);
        var accepted = runner is not null && await runner.SignalAsync(signal, context.CancellationToken);
        record = runner?.Record ?? record;
        return new CancelExecutionResponse { SandboxId = record.SandboxId, ExecutionId = record.Id, Accepted = accepted, Status = record.Status.ToProto() };
    }

    public override async Task StreamExecution(StreamExecutionRequest request, IServerStreamWriter<ExecutionStreamEvent> responseStream, ServerCallContext context)
    {
        var runner = sandboxes.FindRunner(request.ExecutionId);
        var record = InSandbox(runner?.Record ?? Find(request.ExecutionId), request.SandboxId);

        // A client following the output keeps a sandbox made for one exec alive; when it vanishes, the daemon reaps it.
        using var hold = sandboxes.Hold(record.SandboxId);
        if (request.OutputOffset < 0)
        {
            throw DaemonException.InvalidArgument($"output_offset must not be negative (got {request.OutputOffset})");
        }

        await WriteOutputAsync(runner, record, request.Follow, request.OutputOffset, responseStream, context.CancellationToken);
    }

    /// <summary>The execution's logged output from <paramref name="offset"/>, then its exit event once it has finished.</summary>
    private async Task WriteOutputAsync(ExecutionRunner? runner, ExecutionRecord record, bool follow, long offset, IServerStreamWriter<ExecutionStreamEvent> responseStream, CancellationToken cancellationToken)
    {
        var ownsLog = runner is null;
        var log = runner?.Log ?? sandboxes.OpenFinishedLog(record);
        var skip = offset;
        try
        {
            await foreach (var chunk in log.ReadAsync(follow, cancellationToken))
            {
                if (skip >= chunk.Data.Length)
                {
                    skip -= chunk.Data.Length;
                    continue;
                }

                // Wrapped, not copied: the log reader gives every record an array of its own and never touches it again.
                var data = UnsafeByteOperations.UnsafeWrap(chunk.Data[(int)skip..]);
                skip = 0;
                var message = NewEvent(record);
                if (chunk.Stream == OutputStreamKind.Stdout)
                {
                    message.Stdout = data;
                }
                else
                {
                    message.Stderr = data;
                }

                await responseStream.WriteAsync(message, cancellationToken);
            }
        }
        finally
        {
            if (ownsLog)
            {
                log.Dispose();
            }
        }

        var final = runner is null ? record : follow ? await runner.Finished.WaitAsync(cancellationToken) : runner.Record;
        await WriteExitAsync(final, responseStream, cancellationToken);
    }

    private static async Task WriteExitAsync(ExecutionRecord final, IServerStreamWriter<ExecutionStreamEvent> responseStream, CancellationToken cancellationToken)
    {
        if (final.IsFinished)
        {
            var exit = NewEvent(final);
            exit.Exit = new ExecutionExit { ExitCode = final.ExitCode, Status = final.Status.ToProto(), Message = final.Error };
            await responseStream.WriteAsync(exit, cancellationToken);
        }
    }

    public override async Task<WriteExecutionStdinResponse> WriteExecutionStdin(WriteExecutionStdinRequest request, ServerCallContext context)
    {
        if (request.Data.Length > MaxStdinChunk)
        {
            throw DaemonException.InvalidArgument($"stdin chunk of {request.Data.Length} bytes exceeds {MaxStdinChunk} bytes");
        }

        await Running(request.ExecutionId, request.SandboxId).WriteStdinAsync(request.Data.Memory, context.CancellationToken);
        return new WriteExecutionStdinResponse();
    }

    public override async Task<CloseExecutionStdinResponse> CloseExecutionStdin(CloseExecutionStdinRequest request, ServerCallContext context)
    {
        await Running(request.ExecutionId, request.SandboxId).CloseStdinAsync(context.CancellationToken);
        return new CloseExecutionStdinResponse();
    }

    public override async Task<ResizeExecutionResponse> ResizeExecution(ResizeExecutionRequest request, ServerCallContext context)
    {
        await Running(request.ExecutionId, request.SandboxId).ResizeAsync((ushort)Math.Clamp(request.Cols, 1, ushort.MaxValue), (ushort)Math.Clamp(request.Rows, 1, ushort.MaxValue), context.CancellationToken);
        return new ResizeExecutionResponse();
    }

    private static ExecutionStreamEvent NewEvent(ExecutionRecord record) => new()
    {
        SandboxId = record.SandboxId,
        ExecutionId = record.Id,
        Status = record.Status.ToProto(),
        OccurredAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
    };

    private ExecutionRecord Find(string executionId) => _lookup.Find(executionId);

    /// <summary>
    /// The running execution, when it belongs to <paramref name="sandboxId"/> (empty: any sandbox; execution ids are
    /// unique across sandboxes). A call naming another sandbox is refused as not found, never acted on.
    /// </summary>
    private ExecutionRunner Running(string executionId, string sandboxId)
    {
        var runner = sandboxes.FindRunner(executionId);
        if (runner is null)
        {
            _ = InSandbox(Find(executionId), sandboxId);
            throw DaemonException.NotReady($"execution {Ids.Describe(executionId)} is not running");
        }

        _ = InSandbox(runner.Record, sandboxId);
        return runner;
    }

    /// <summary>The record, when it belongs to <paramref name="sandboxId"/> or none is named; otherwise not found.</summary>
    private static ExecutionRecord InSandbox(ExecutionRecord record, string sandboxId) =>
        sandboxId.Length == 0 || record.SandboxId == sandboxId ? record : throw DaemonException.ExecutionNotFound(record.Id, sandboxId);
}
