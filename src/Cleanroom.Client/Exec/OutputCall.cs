using Cleanroom.Api.V1;
using Grpc.Core;

namespace Cleanroom.Client.Exec;

/// <summary>A call that streams a command's output events, over gRPC or Connect (<see cref="DaemonConnection.RunExecution"/>).</summary>
public sealed class OutputCall : IDisposable
{
    private readonly IDisposable _call;

    internal OutputCall(IAsyncStreamReader<ExecutionStreamEvent> responseStream, IDisposable call)
    {
        ResponseStream = responseStream;
        _call = call;
    }

    /// <summary>The events, as a gRPC server stream reads them; failures are <see cref="RpcException"/>s either way.</summary>
    public IAsyncStreamReader<ExecutionStreamEvent> ResponseStream { get; }

    /// <summary>Ends the call (the daemon sees the client leave).</summary>
    public void Dispose() => _call.Dispose();
}
