using Cleanroom.Api.V1;
using Grpc.Net.Client;

namespace Cleanroom.Client;

/// <summary>One channel to the daemon and the typed clients of every cleanroom.v1 service on it.</summary>
public sealed class DaemonConnection : IDisposable
{
    private DaemonConnection(DaemonEndpoint endpoint, GrpcChannel channel)
    {
        Endpoint = endpoint;
        Channel = channel;
        Sandboxes = new SandboxService.SandboxServiceClient(channel);
        Executions = new ExecutionService.ExecutionServiceClient(channel);
        System = new SystemService.SystemServiceClient(channel);
        Images = new ImageService.ImageServiceClient(channel);
        Cache = new CacheService.CacheServiceClient(channel);
    }

    public DaemonEndpoint Endpoint { get; }

    public GrpcChannel Channel { get; }

    public SandboxService.SandboxServiceClient Sandboxes { get; }

    public ExecutionService.ExecutionServiceClient Executions { get; }

    public SystemService.SystemServiceClient System { get; }

    public ImageService.ImageServiceClient Images { get; }

    /// <summary>The gateway's content cache: stats, entries, prune.</summary>
    public CacheService.CacheServiceClient Cache { get; }

    /// <summary>Creates the channel; nothing is sent until the first call.</summary>
    public static DaemonConnection Open(DaemonEndpoint endpoint) => new(endpoint, DaemonChannel.Create(endpoint));

    /// <summary>Creates the channel with these TLS settings for an https endpoint; nothing is sent until the first call.</summary>
    /// <exception cref="DaemonTlsException">The TLS files cannot be used.</exception>
    public static DaemonConnection Open(DaemonEndpoint endpoint, DaemonTls tls) => new(endpoint, DaemonChannel.Create(endpoint, tls));

    public void Dispose() => Channel.Dispose();
}
