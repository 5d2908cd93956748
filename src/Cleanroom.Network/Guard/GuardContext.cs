using Microsoft.Extensions.Logging;

namespace Cleanroom.Network.Guard;

/// <summary>What every guarded connection shares with the guard that accepted it.</summary>
internal sealed record GuardContext(
    ConnectionGuardOptions Options, UpstreamConnector Connect, IEgressAudit Audit, ConnectionGuardStatistics Statistics, ILogger Logger, TimeProvider Time);
