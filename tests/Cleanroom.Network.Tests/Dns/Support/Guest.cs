using System.Net;
using System.Net.Sockets;
using Cleanroom.Network.Dns.Wire;

namespace Cleanroom.Network.Tests.Dns.Support;

/// <summary>A guest's resolver: a UDP socket on the sandbox's loopback address, and TCP connections from it.</summary>
internal sealed class Guest : IDisposable
{
    public static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(10);

    private readonly Socket _udp;

    public Guest(IPAddress source)
    {
        Source = source;
        _udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _udp.Bind(new IPEndPoint(source, 0));
    }

    public IPAddress Source { get; }

    /// <summary>Bytes waiting on the UDP socket: non-zero once anything has been sent to it.</summary>
    public int Pending => _udp.Available;

    public void Send(byte[] message, IPEndPoint server) => _udp.SendTo(message, server);

    /// <summary>The next datagram with the given id (others, e.g. answers to earlier garbage, are skipped).</summary>
    public async Task<byte[]> ReceiveAsync(ushort id, TimeSpan? timeout = null)
    {
        using var deadline = new CancellationTokenSource(timeout ?? AnswerTimeout);
        var buffer = new byte[65536];
        while (true)
        {
            var length = await _udp.ReceiveAsync(buffer, SocketFlags.None, deadline.Token);
            if (DnsHeader.TryRead(buffer.AsSpan(0, length), out var header) && header.Id == id)
            {
                return buffer[..length];
            }
        }
    }

    /// <summary>The next datagram, whatever it is.</summary>
    public async Task<byte[]> ReceiveAsync(TimeSpan? timeout = null)
    {
        using var deadline = new CancellationTokenSource(timeout ?? AnswerTimeout);
        var buffer = new byte[65536];
        var length = await _udp.ReceiveAsync(buffer, SocketFlags.None, deadline.Token);
        return buffer[..length];
    }

    public async Task<GuestAnswer> AskAsync(IPEndPoint server, GuestQuery query)
    {
        Send(query.Bytes, server);
        return query.Parse(await ReceiveAsync(query.Id));
    }

    /// <summary>Asks over a new TCP connection from the sandbox's address.</summary>
    public async Task<GuestAnswer> AskTcpAsync(IPEndPoint server, GuestQuery query)
    {
        using var connection = await ConnectAsync(server);
        return query.Parse(await ExchangeTcpAsync(connection, query.Bytes) ?? throw new IOException("the filter closed the connection"));
    }

    public async Task<Socket> ConnectAsync(IPEndPoint server)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(Source, 0));
        await socket.ConnectAsync(server);
        return socket;
    }

    /// <summary>Sends one length-prefixed message and reads one back; null when the filter closes the connection.</summary>
    public static async Task<byte[]?> ExchangeTcpAsync(Socket connection, byte[] message)
    {
        try
        {
            await connection.SendAsync(Framed(message), SocketFlags.None);
            return await ReadTcpAsync(connection);
        }
        catch (SocketException)
        {
            // Reset by the filter: closed as far as the guest can tell.
            return null;
        }
    }

    /// <summary>Reads one length-prefixed message; null when the connection ends (or is reset) first.</summary>
    public static async Task<byte[]?> ReadTcpAsync(Socket connection, TimeSpan? timeout = null)
    {
        try
        {
            return await ReadFramedAsync(connection, timeout);
        }
        catch (IOException e) when (e.InnerException is SocketException)
        {
            return null;
        }
    }

    private static async Task<byte[]?> ReadFramedAsync(Socket connection, TimeSpan? timeout)
    {
        using var deadline = new CancellationTokenSource(timeout ?? AnswerTimeout);
        await using var stream = new NetworkStream(connection, ownsSocket: false);
        var prefix = new byte[2];
        if (await stream.ReadAtLeastAsync(prefix, 2, throwOnEndOfStream: false, deadline.Token) < 2)
        {
            return null;
        }

        var message = new byte[(prefix[0] << 8) | prefix[1]];
        return await stream.ReadAtLeastAsync(message, message.Length, throwOnEndOfStream: false, deadline.Token) == message.Length
            ? message
            : null;
    }

    public static byte[] Framed(byte[] message) => [(byte)(message.Length >> 8), (byte)message.Length, .. message];

    public void Dispose() => _udp.Dispose();
}
