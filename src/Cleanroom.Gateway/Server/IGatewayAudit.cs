namespace Cleanroom.Gateway.Server;

/// <summary>Where the gateway reports refused requests (the daemon's egress audit log and sandbox events).</summary>
public interface IGatewayAudit
{
    void Refused(GatewayRefusal refusal);
}

/// <summary>
/// One refused gateway request. <paramref name="Host"/> and <paramref name="Path"/> are guest-controlled and must be
/// escaped before they are stored or shown.
/// </summary>
/// <param name="SandboxId">The sandbox, or empty when the source address belongs to none.</param>
/// <param name="Time">When (UTC).</param>
/// <param name="Route">The route (<c>git</c>, <c>fetch</c>, ...), or empty when none matched.</param>
/// <param name="Host">The upstream host asked for, or empty.</param>
/// <param name="Path">The request path, cut to a bounded length.</param>
/// <param name="Reason">The reason code sent in <c>X-Cleanroom-Reason-Code</c>, e.g. <c>host_not_allowed</c>.</param>
public sealed record GatewayRefusal(string SandboxId, DateTimeOffset Time, string Route, string Host, string Path, string Reason);
