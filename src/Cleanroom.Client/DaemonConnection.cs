using Cleanroom.Api.V1;
using Cleanroom.Client.Connect;
using Cleanroom.Client.Exec;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace Cleanroom.Client;

/// <summary>
/// One channel to the daemon and the typed clients of every cleanroom.v1 service on it; on a unix socket also a
/// Connect channel over HTTP/1.1 that carries the calls following a command's output (<see cref="ConnectChannel"/>).
/// </summary>
public sealed class DaemonConnection : IDisposable
{
    private const string RunExecutionProcedure = "/cleanroom.v1.ExecutionService/RunExecution";
    private const string StreamExecutionProcedure = "/cleanroom.v1.ExecutionService/StreamExecution";
    private readonly ConnectChannel? _output;

    private DaemonConnection(DaemonEndpoint endpoint, GrpcChannel channel)
    {
        Endpoint = endpoint;
        Channel = channel;
        _output = ConnectChannel.ForUnixSocket(endpoint);
        Sandboxes = new SandboxService.SandboxServiceClient(channel);
        Executions = new ExecutionService.ExecutionServiceClient(channel);
        System = new SystemService.SystemServiceClient(channel);
        Images = new ImageService.ImageServiceClient(channel);
        Cache = new CacheService.CacheServiceClient(channel);
    }

    /// <summary>Where the daemon listens.</summary>
    public DaemonEndpoint Endpoint { get; }

    /// <summary>The HTTP/2 channel every client below calls through.</summary>
    public GrpcChannel Channel { get; }

    /// <summary>Sandboxes: create, get, list, terminate, events, files.</summary>
    public SandboxService.SandboxServiceClient Sandboxes { get; }

    /// <summary>Executions: start, follow, signal and list commands.</summary>
    public ExecutionService.ExecutionServiceClient Executions { get; }

    /// <summary>The daemon itself: version, health, host checks.</summary>
    public SystemService.SystemServiceClient System { get; }

    /// <summary>Images: pull, import, list, remove.</summary>
    public ImageService.ImageServiceClient Images { get; }

    /// <summary>The gateway's content cache: stats, entries, prune.</summary>
    public CacheService.CacheServiceClient Cache { get; }

    /// <summary>Creates the channel; nothing is sent until the first call.</summary>
    public static DaemonConnection Open(DaemonEndpoint endpoint) => new(endpoint, DaemonChannel.Create(endpoint));

    /// <summary>Creates the channel with these TLS settings for an https endpoint; nothing is sent until the first call.</summary>
    /// <exception cref="DaemonTlsException">The TLS files cannot be used.</exception>
    public static DaemonConnection Open(DaemonEndpoint endpoint, DaemonTls tls) => new(endpoint, DaemonChannel.Create(endpoint, tls));

    /// <summary>RunExecution: creates the command and streams its events (Connect on a unix socket, else gRPC).</summary>
    public OutputCall RunExecution(CreateExecutionRequest request, CancellationToken cancellationToken) =>
        Follow(RunExecutionProcedure, request, (r, o) => Executions.RunExecution(r, o), cancellationToken);

    /// <summary>StreamExecution: follows an execution's events (Connect on a unix socket, else gRPC).</summary>
    public OutputCall StreamExecution(StreamExecutionRequest request, CancellationToken cancellationToken) =>
        Follow(StreamExecutionProcedure, request, (r, o) => Executions.StreamExecution(r, o), cancellationToken);

    /// <summary>Closes the channels.</summary>
    public void Dispose()
    {
        Channel.Dispose();
        _output?.Dispose();
    }

    private OutputCall Follow<TRequest>(string procedure, TRequest request, Func<TRequest, CallOptions, AsyncServerStreamingCall<ExecutionStreamEvent>> grpc, CancellationToken cancellationToken)
        where TRequest : IMessage
    {
        if (_output is not null)
        {
            var stream = _output.ServerStream(procedure, request, ExecutionStreamEvent.Parser, cancellationToken);
            return new OutputCall(stream, stream);
        }

        var call = grpc(request, new CallOptions(cancellationToken: cancellationToken));
        return new OutputCall(call.ResponseStream, call);
    }
}
