using System.Net.Sockets;

namespace Cleanroom.Network.Guard;

/// <summary>How the guard ends a connection it refuses or that failed: with a reset, so the peer fails at once.</summary>
internal static class SocketClose
{
    /// <summary>Closes with SO_LINGER 0, which makes the kernel send RST instead of FIN. Never throws.</summary>
    public static void Abort(Socket? socket)
    {
        if (socket is null)
        {
            return;
        }

        try
        {
            socket.LingerState = new LingerOption(true, 0);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already closed or reset: disposing is all that is left.
        }

        socket.Dispose();
    }
}
