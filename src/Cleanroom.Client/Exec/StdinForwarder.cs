using Cleanroom.Api.V1;
using Google.Protobuf;
using Grpc.Core;

namespace Cleanroom.Client.Exec;

/// <summary>Copies a stream to a running execution's stdin in chunks, then closes it at end of file.</summary>
internal sealed class StdinForwarder(ExecutionService.ExecutionServiceClient executions, string sandboxId, string executionId)
{
    /// <summary>Largest chunk per WriteExecutionStdin call; keeps each message far below gRPC's size limit.</summary>
    public const int ChunkSize = 64 * 1024;

    /// <summary>
    /// Runs until end of file or cancellation. Errors are swallowed on purpose: when the command exits before
    /// reading all its input, the daemon rejects further writes, and the command's exit status is what matters.
    /// </summary>
    public async Task RunAsync(Stream stdin, CancellationToken cancellationToken)
    {
        var buffer = new byte[ChunkSize];
        try
        {
            while (true)
            {
                var read = await stdin.ReadAsync(buffer, cancellationToken);
                if (read == 0)
                {
                    break;
                }

                await executions.WriteExecutionStdinAsync(new WriteExecutionStdinRequest
                {
                    SandboxId = sandboxId,
                    ExecutionId = executionId,
                    Data = ByteString.CopyFrom(buffer, 0, read),
                }, cancellationToken: cancellationToken);
            }

            await executions.CloseExecutionStdinAsync(new CloseExecutionStdinRequest
            {
                SandboxId = sandboxId,
                ExecutionId = executionId,
            }, cancellationToken: cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }
        catch (RpcException)
        {
        }
        catch (IOException)
        {
        }
    }
}
