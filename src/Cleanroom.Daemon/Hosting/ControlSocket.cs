using System.Net.Sockets;

namespace Cleanroom.Daemon.Hosting;

/// <summary>
/// Prepares the unix socket path before Kestrel binds it: a parent directory that is the daemon's alone (created
/// 0700, else it must be owned by the daemon's user and writable by nobody else), and a stale socket file from a
/// crashed daemon removed — but never the socket of a daemon that still answers.
/// </summary>
internal static class ControlSocket
{
    public static void Prepare(string socketPath)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(socketPath))!;
        PrivateDirectory.Ensure(dir, "the socket's directory", enforcePrivate: false);

        if (!File.Exists(socketPath))
        {
            return;
        }

        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(socketPath));
        }
        catch (SocketException)
        {
            File.Delete(socketPath);
            return;
        }

        throw new DaemonException(Grpc.Core.StatusCode.AlreadyExists, ReasonCode.FailedPrecondition, $"another daemon is already listening on {socketPath}");
    }

    /// <summary>Only the owner may talk to the daemon: the socket is its whole access control.</summary>
    public static void Restrict(string socketPath) =>
        File.SetUnixFileMode(socketPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
}
