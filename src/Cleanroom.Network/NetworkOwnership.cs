using System.Net.Sockets;

namespace Cleanroom.Network;

/// <summary>
/// One daemon at a time owns the sandbox network of a network namespace (its nftables table, its TAP devices, the
/// filter ports). A second daemon there would replace the first one's table (dropping its sandboxes' rules; and on
/// its own failed start, delete the table and leave them unfiltered) and delete their TAPs as strays. The claim is an
/// abstract unix socket bound under the table's name: abstract names belong to the network namespace, the kernel
/// releases them when the owner dies however it dies, and the descriptor is close-on-exec, so no VM inherits it.
/// </summary>
public sealed class NetworkOwnership : IDisposable
{
    private readonly Socket _socket;

    private NetworkOwnership(Socket socket) => _socket = socket;

    /// <summary>Claims the network of table <paramref name="tableName"/>; throws <see cref="IOException"/> when another daemon holds it.</summary>
    public static NetworkOwnership Claim(string tableName)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Bind(new UnixDomainSocketEndPoint("\0cleanroom-network/" + tableName));
            return new NetworkOwnership(socket);
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            socket.Dispose();
            throw new IOException(
                $"another Cleanroom daemon runs the sandbox network of this network namespace (nftables table inet {tableName}), "
                + "and two cannot share it: stop that one, or start this one with --network off");
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public void Dispose() => _socket.Dispose();
}
