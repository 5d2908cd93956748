using System.Net;
using System.Net.Sockets;

namespace Cleanroom.Network.Guard;

/// <summary>
/// Opens the guard's own connection to a guest's original destination. A seam: tests run the guard's upstream side in
/// a network namespace of their own, or map a made-up destination to a loopback server.
/// </summary>
internal delegate ValueTask<Socket> UpstreamConnector(IPEndPoint destination, CancellationToken ct);

/// <summary>The real connector: a plain TCP connection from the host, in the destination's address family.</summary>
internal static class DirectUpstream
{
    public static async ValueTask<Socket> ConnectAsync(IPEndPoint destination, CancellationToken ct)
    {
        var socket = new Socket(destination.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            if (destination.AddressFamily == AddressFamily.InterNetworkV6)
            {
                // IPV6_V6ONLY: an IPv6 destination must never turn into an IPv4 one through a mapped address.
                socket.DualMode = false;
            }

            await socket.ConnectAsync(destination, ct);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
