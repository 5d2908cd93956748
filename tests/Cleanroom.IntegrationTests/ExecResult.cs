using System.Text;
using Cleanroom.Api.V1;
using Google.Protobuf;
using Grpc.Core;

namespace Cleanroom.IntegrationTests;

/// <summary>Everything a command produced, collected through the public API exactly as a client sees it.</summary>
internal sealed record ExecResult(byte[] Stdout, byte[] Stderr, ExecutionExit Exit, string ExecutionId)
{
    public string StdoutText => Encoding.UTF8.GetString(Stdout);

    public string StderrText => Encoding.UTF8.GetString(Stderr);

    /// <param name="observe">Sees each event as it arrives (e.g. to learn that the command is running).</param>
    public static Task<ExecResult> RunAsync(DaemonFixture daemon, string sandboxId, IEnumerable<string> command, ExecutionOptions? options = null, byte[]? stdin = null, Action<ExecutionStreamEvent>? observe = null) =>
        RunAsync(daemon.Executions, sandboxId, command, options, stdin, observe);

    public static async Task<ExecResult> RunAsync(ExecutionService.ExecutionServiceClient executions, string sandboxId, IEnumerable<string> command, ExecutionOptions? options = null, byte[]? stdin = null, Action<ExecutionStreamEvent>? observe = null)
    {
        options ??= new ExecutionOptions();
        options.AttachStdin = stdin is not null;
        var request = new CreateExecutionRequest { SandboxId = sandboxId, Options = options };
        request.Command.AddRange(command);
        var execution = (await executions.CreateExecutionAsync(request)).Execution;
        var id = execution.ExecutionId;

        var feed = stdin is null ? Task.CompletedTask : Task.Run(async () =>
        {
            for (var offset = 0; offset < stdin.Length; offset += 65536)
            {
                var chunk = ByteString.CopyFrom(stdin, offset, Math.Min(65536, stdin.Length - offset));
                await executions.WriteExecutionStdinAsync(new WriteExecutionStdinRequest { SandboxId = sandboxId, ExecutionId = id, Data = chunk });
            }

            await executions.CloseExecutionStdinAsync(new CloseExecutionStdinRequest { SandboxId = sandboxId, ExecutionId = id });
        });

        var stdout = new MemoryStream();
        var stderr = new MemoryStream();
        ExecutionExit? exit = null;
        using var call = executions.StreamExecution(new StreamExecutionRequest { SandboxId = sandboxId, ExecutionId = id, Follow = true });
        await foreach (var e in call.ResponseStream.ReadAllAsync())
        {
            observe?.Invoke(e);
            switch (e.PayloadCase)
            {
                case ExecutionStreamEvent.PayloadOneofCase.Stdout:
                    e.Stdout.WriteTo(stdout);
                    break;
                case ExecutionStreamEvent.PayloadOneofCase.Stderr:
                    e.Stderr.WriteTo(stderr);
                    break;
                case ExecutionStreamEvent.PayloadOneofCase.Exit:
                    exit = e.Exit;
                    break;
            }
        }

        await feed;
        return new ExecResult(stdout.ToArray(), stderr.ToArray(), exit ?? throw new InvalidOperationException("the stream ended without an exit event"), id);
    }
}
