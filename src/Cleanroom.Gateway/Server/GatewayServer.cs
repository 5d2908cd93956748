using System.Net;
using Cleanroom.Gateway.Cache;
using Microsoft.Extensions.Logging;

namespace Cleanroom.Gateway.Server;

/// <summary>
/// The guest-facing gateway: one HTTP listener for every sandbox. Each request is tied to its sandbox by source
/// address, canonicalised, checked against that sandbox's policy and limits, then served from the cache or upstream
/// with host-side credentials. The daemon owns one while sandbox networking runs.
/// </summary>
public sealed class GatewayServer : IAsyncDisposable
{
    private GatewayServer(ContentCache cache)
    {
        Cache = cache;
    }

    /// <summary>The endpoints actually bound (port 0 resolved).</summary>
    public IReadOnlyList<IPEndPoint> Endpoints { get; private set; } = [];

    /// <summary>The cache it serves from (owned by the caller).</summary>
    public ContentCache Cache { get; }

    /// <summary>Counters per route since start.</summary>
    public IReadOnlyList<GatewayRouteCounters> Statistics() => Endpoints.Count == 0 ? [] : [];

    /// <summary>Starts listening; throws when an endpoint cannot be bound or the credentials file is invalid.</summary>
    public static Task<GatewayServer> StartAsync(
        GatewayOptions options, ContentCache cache, IGatewayClients clients, IGatewayAudit audit, ILoggerFactory loggers, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(clients);
        ArgumentNullException.ThrowIfNull(audit);
        ArgumentNullException.ThrowIfNull(loggers);
        ct.ThrowIfCancellationRequested();
        _ = new GatewayServer(cache);
        throw new NotImplementedException("contract only: the server lands with the gateway routes");
    }

    /// <summary>Stops listening and waits for requests in flight (bounded).</summary>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
