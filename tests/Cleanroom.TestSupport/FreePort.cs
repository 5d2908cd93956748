using System.Net;
using System.Net.Sockets;

namespace Cleanroom.TestSupport;

/// <summary>Loopback ports for servers that want a number up front (docker-registry's config, HttpListener prefixes).</summary>
public static class FreePort
{
    /// <summary>
    /// A port that was free a moment ago. Another process can take it before the caller binds it, so callers that
    /// start a server retry with a new port when binding fails.
    /// </summary>
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
