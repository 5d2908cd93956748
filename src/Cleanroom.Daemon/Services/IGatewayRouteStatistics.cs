using Cleanroom.Gateway.Server;

namespace Cleanroom.Daemon.Services;

/// <summary>What <c>cache stats</c> shows of the gateway: whether it serves in this daemon run, and its route counters.</summary>
public interface IGatewayRouteStatistics
{
    /// <summary>True while the gateway server runs.</summary>
    bool IsRunning { get; }

    /// <summary>Counters per route since the gateway started; empty when it does not run.</summary>
    IReadOnlyList<GatewayRouteCounters> Statistics();
}
