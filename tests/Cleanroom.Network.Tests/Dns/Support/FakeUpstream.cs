using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Cleanroom.Network.Dns;
using Cleanroom.Network.Dns.Wire;

namespace Cleanroom.Network.Tests.Dns.Support;

/// <summary>One query as the fake upstream received it.</summary>
internal sealed record UpstreamQuery(bool OverTcp, IPEndPoint Source, byte[] Bytes, DnsQuery Query);

/// <summary>
/// A scripted upstream on 127.0.0.1 (UDP and TCP on one port) for what dnsmasq will not do on demand: truncate,
/// answer with the wrong id, or stay silent. Each transport answers with the datagrams its script returns.
/// </summary>
internal sealed class FakeUpstream : IAsyncDisposable
{
    private readonly Socket _udp;
    private readonly Socket _tcp;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _udpLoop;
    private readonly Task _tcpLoop;
    private readonly ConcurrentQueue<UpstreamQuery> _queries = new();

    public FakeUpstream(Func<DnsQuery, IEnumerable<byte[]>> udpScript, Func<DnsQuery, IEnumerable<byte[]>>? tcpScript = null)
    {
        (_udp, _tcp) = BindPair();
        Endpoint = (IPEndPoint)_udp.LocalEndPoint!;
        _udpLoop = ServeUdpAsync(udpScript);
        _tcpLoop = ServeTcpAsync(tcpScript ?? (_ => []));
    }

    public IPEndPoint Endpoint { get; }

    public IReadOnlyCollection<UpstreamQuery> Queries => _queries;

    /// <summary>An answer to <paramref name="query"/> with the given records (and flags such as TC).</summary>
    public static byte[] Answer(DnsQuery query, IReadOnlyList<DnsRecord> records, ushort? id = null, bool truncated = false)
    {
        var message = DnsMessageBuilder.Response(id ?? query.Id, true, DnsResponseCode.NoError, query.Question, records, null, 4096);
        if (truncated)
        {
            message[2] |= 0x02;
        }

        return message;
    }

    public static DnsRecord A(DnsQuery query, string address, uint ttl = 60) =>
        new(query.Question.Name, DnsRecordType.A, ttl, IPAddress.Parse(address).GetAddressBytes(), null);

    private async Task ServeUdpAsync(Func<DnsQuery, IEnumerable<byte[]>> script)
    {
        var buffer = new byte[4096];
        try
        {
            while (true)
            {
                var received = await _udp.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), _stop.Token);
                var bytes = buffer[..received.ReceivedBytes];
                if (DnsQueryParser.Parse(bytes, out _, out var query) == DnsQueryParser.Outcome.Query)
                {
                    _queries.Enqueue(new UpstreamQuery(false, (IPEndPoint)received.RemoteEndPoint, bytes, query!));
                    foreach (var reply in script(query!))
                    {
                        await _udp.SendToAsync(reply, received.RemoteEndPoint);
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task ServeTcpAsync(Func<DnsQuery, IEnumerable<byte[]>> script)
    {
        try
        {
            while (true)
            {
                using var connection = await _tcp.AcceptAsync(_stop.Token);
                var message = await Guest.ReadTcpAsync(connection);
                if (message is not null && DnsQueryParser.Parse(message, out _, out var query) == DnsQueryParser.Outcome.Query)
                {
                    _queries.Enqueue(new UpstreamQuery(true, (IPEndPoint)connection.RemoteEndPoint!, message, query!));
                    foreach (var reply in script(query!))
                    {
                        await connection.SendAsync(Guest.Framed(reply), SocketFlags.None);
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static (Socket Udp, Socket Tcp) BindPair()
    {
        while (true)
        {
            var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            udp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                tcp.Bind(udp.LocalEndPoint!);
                tcp.Listen();
                return (udp, tcp);
            }
            catch (SocketException)
            {
                udp.Dispose();
                tcp.Dispose();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_udpLoop, _tcpLoop);
        _udp.Dispose();
        _tcp.Dispose();
        _stop.Dispose();
    }
}
