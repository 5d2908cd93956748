namespace Cleanroom.Gateway.Server;

/// <summary>
/// A route refuses the request: the server answers <see cref="Status"/> with <c>X-Cleanroom-Reason-Code</c>, a short
/// text body, audits it and counts it. The message may name guest text; it is escaped before it is sent or logged.
/// </summary>
internal sealed class GatewayRefusalException(int status, ReasonCode reason, string message) : Exception(message)
{
    public int Status { get; } = status;

    public ReasonCode Reason { get; } = reason;
}
