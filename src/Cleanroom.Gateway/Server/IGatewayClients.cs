using System.Net;

namespace Cleanroom.Gateway.Server;

/// <summary>Finds the sandbox behind a source address (the daemon's live sandbox networks).</summary>
public interface IGatewayClients
{
    /// <summary>The sandbox whose guest owns <paramref name="source"/>, or null: the request is refused.</summary>
    GatewayClient? Find(IPAddress source);
}
