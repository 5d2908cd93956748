using System.Net.Sockets;

namespace Cleanroom.Daemon.Tests.Fakes;

/// <summary>
/// Two connected unix stream sockets: the host end stands in for QEMU's agent chardev, the guest end for the
/// virtio-serial port inside the VM. The listening socket's directory is removed as soon as the pair is connected.
/// </summary>
internal static class UnixSocketPair
{
    public static async Task<(NetworkStream Host, NetworkStream Guest)> CreateAsync(CancellationToken cancellationToken)
    {
        var dir = Directory.CreateTempSubdirectory("cr-fakevm-");
        try
        {
            var endpoint = new UnixDomainSocketEndPoint(Path.Combine(dir.FullName, "agent.sock"));
            using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            listener.Bind(endpoint);
            listener.Listen(1);
            var host = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                var accepted = listener.AcceptAsync(cancellationToken);
                await host.ConnectAsync(endpoint, cancellationToken);
                var guest = await accepted;
                return (new NetworkStream(host, ownsSocket: true), new NetworkStream(guest, ownsSocket: true));
            }
            catch
            {
                host.Dispose();
                throw;
            }
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
