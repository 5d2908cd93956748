using System.Threading.Channels;
using Cleanroom.Api.V1;
using Google.Protobuf;

namespace Cleanroom.Cli.Tests.FakeDaemon;

/// <summary>One execution in the fake daemon: its request, stdin received, signals received, and its output.</summary>
internal sealed class FakeExecution(Execution record, CreateExecutionRequest request)
{
    private readonly Lock _gate = new();
    private readonly List<byte> _stdin = [];

    /// <summary>The live record; behaviours change it, so answers go out as <see cref="Snapshot"/> copies.</summary>
    public Execution Record { get; } = record;

    public CreateExecutionRequest Request { get; } = request;

    /// <summary>Output events in order, ending with the exit event; StreamExecution drains it.</summary>
    public Channel<ExecutionStreamEvent> Output { get; } = Channel.CreateUnbounded<ExecutionStreamEvent>();

    public Channel<int> Signals { get; } = Channel.CreateUnbounded<int>();

    public TaskCompletionSource StdinClosed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int LargestStdinChunk { get; private set; }

    /// <summary>A copy taken under the lock: serializing the live record while a behaviour changes it would fail.</summary>
    public Execution Snapshot()
    {
        lock (_gate)
        {
            return Record.Clone();
        }
    }

    public byte[] StdinBytes()
    {
        lock (_gate)
        {
            return [.. _stdin];
        }
    }

    public void AppendStdin(ReadOnlySpan<byte> data)
    {
        lock (_gate)
        {
            _stdin.AddRange(data);
            LargestStdinChunk = Math.Max(LargestStdinChunk, data.Length);
        }
    }

    public ValueTask StdoutAsync(string text) => Emit(new ExecutionStreamEvent { Stdout = ByteString.CopyFromUtf8(text) });

    public ValueTask StdoutAsync(byte[] data) => Emit(new ExecutionStreamEvent { Stdout = ByteString.CopyFrom(data) });

    public ValueTask StderrAsync(string text) => Emit(new ExecutionStreamEvent { Stderr = ByteString.CopyFromUtf8(text) });

    public async ValueTask ExitAsync(int exitCode, ExecutionStatus status, string message = "")
    {
        lock (_gate)
        {
            Record.ExitCode = exitCode;
            Record.Status = status;
            Record.Error = message;
        }

        await Emit(new ExecutionStreamEvent { Exit = new ExecutionExit { ExitCode = exitCode, Status = status, Message = message } });
        Output.Writer.TryComplete();
    }

    /// <summary>Ends the output without an exit event, as a daemon restart would; the record keeps the result.</summary>
    public void EndStreamWithoutExit(int exitCode, ExecutionStatus status)
    {
        lock (_gate)
        {
            Record.ExitCode = exitCode;
            Record.Status = status;
        }

        Output.Writer.TryComplete();
    }

    /// <summary>Breaks the output stream with an error status, as a daemon going away mid-stream would.</summary>
    public void FailStream(int exitCode, ExecutionStatus status, string detail)
    {
        lock (_gate)
        {
            Record.ExitCode = exitCode;
            Record.Status = status;
        }

        Output.Writer.TryComplete(new Grpc.Core.RpcException(new Grpc.Core.Status(Grpc.Core.StatusCode.Internal, detail)));
    }

    private ValueTask Emit(ExecutionStreamEvent message)
    {
        message.SandboxId = Record.SandboxId;
        message.ExecutionId = Record.ExecutionId;
        return Output.Writer.WriteAsync(message);
    }
}
