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

    /// <summary>Closes the channel.</summary>
    public void Dispose() => Channel.Dispose();
}
