using System.Net.Sockets;

namespace Cleanroom.Guest.Wire.Tests;

/// <summary>Two connected unix-socket streams: the same kind of byte stream the host gets from QEMU's chardev.</summary>
internal sealed class SocketPair : IAsyncDisposable
{
    private readonly string _dir;

    private SocketPair(string dir, NetworkStream host, NetworkStream guest)
    {
        _dir = dir;
        Host = host;
        Guest = guest;
    }

    public NetworkStream Host { get; }

    public NetworkStream Guest { get; }

    public static async Task<SocketPair> CreateAsync()
    {
        var dir = Directory.CreateTempSubdirectory("cr-wire-").FullName;
        var path = Path.Combine(dir, "s");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        var accept = listener.AcceptAsync();
        await client.ConnectAsync(new UnixDomainSocketEndPoint(path));
        var server = await accept;
        return new SocketPair(dir, new NetworkStream(client, ownsSocket: true), new NetworkStream(server, ownsSocket: true));
    }

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        await Guest.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }
}
