using Microsoft.AspNetCore.Http;

namespace Cleanroom.Gateway.Server;

/// <summary>One request as the routes see it: who sent it, its checked target, and what it is for.</summary>
internal sealed class GatewayRequest(HttpContext http, GatewayClient client, RequestTarget target, string route)
{
    public HttpContext Http { get; } = http;

    public GatewayClient Client { get; } = client;

    public RequestTarget Target { get; } = target;

    /// <summary>The route's name (<c>git</c>, <c>fetch</c>, <c>pypi</c>, <c>rubygems</c>, <c>other</c>).</summary>
    public string Route { get; } = route;

    /// <summary>The upstream host, once the route has parsed it (for the audit).</summary>
    public string Host { get; set; } = "";

    public CancellationToken Aborted => Http.RequestAborted;
}
