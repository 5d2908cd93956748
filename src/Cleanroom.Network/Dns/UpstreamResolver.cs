using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Cleanroom.Network.Dns.Wire;
using Microsoft.Extensions.Logging;

namespace Cleanroom.Network.Dns;

/// <summary>
/// Asks the configured resolvers one question, with a query the filter builds itself (never a guest's bytes): a random
/// id, a fresh socket and so a fresh random source port per exchange, RD set, only the question and an OPT record.
/// Over UDP first, over TCP when the answer is truncated; the next resolver when one fails, times out or answers
/// anything but NOERROR or NXDOMAIN.
/// </summary>
internal sealed class UpstreamResolver(DnsFilterOptions options, ILogger logger)
{
    /// <summary>The first usable answer, or null when every resolver failed.</summary>
    public async Task<DnsUpstreamResponse?> ResolveAsync(DnsQuestion question, CancellationToken ct)
    {
        foreach (var upstream in options.Upstreams)
        {
            var response = await AskAsync(upstream, question, ct);
            if (response is { ResponseCode: DnsResponseCode.NoError or DnsResponseCode.NameError })
            {
                return response;
            }
        }

        return null;
    }

    private async Task<DnsUpstreamResponse?> AskAsync(IPEndPoint upstream, DnsQuestion question, CancellationToken ct)
    {
        var id = (ushort)RandomNumberGenerator.GetInt32(ushort.MaxValue + 1);
        var query = DnsMessageBuilder.Query(id, question, options.UpstreamEdnsUdpSize);
        try
        {
            var response = await ExchangeUdpAsync(upstream, id, question, query, ct);
            if (response.Truncated)
            {
                response = await ExchangeTcpAsync(upstream, id, question, query, ct);
            }

            return response;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            logger.LogDebug("DNS upstream {Upstream} timed out", upstream);
        }
        catch (Exception e) when (e is SocketException or IOException or InvalidDataException)
        {
            logger.LogDebug("DNS upstream {Upstream} failed: {Error}", upstream, e.Message);
        }

        return null;
    }

    private async Task<DnsUpstreamResponse> ExchangeUdpAsync(
        IPEndPoint upstream, ushort id, DnsQuestion question, byte[] query, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(options.UpstreamTimeout);
        using var socket = new Socket(upstream.AddressFamily, SocketType.Dgram, ProtocolType.Udp);

        // Connecting a UDP socket binds it to a new ephemeral port (randomised by the kernel) and makes the kernel
        // discard datagrams from anyone but the upstream; a refused port surfaces as an error at once.
        socket.Connect(upstream);
        await socket.SendAsync(query, SocketFlags.None, timeout.Token);
        var buffer = new byte[options.MaxUpstreamUdpBytes + 1];
        while (true)
        {
            var length = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);

            // Anything that is not the answer to this query (a late answer to an earlier one, a spoofing attempt, a
            // datagram too long to be whole) is ignored; the timeout bounds the wait.
            if (length <= options.MaxUpstreamUdpBytes
                && DnsResponseParser.Parse(buffer.AsSpan(0, length), id, question, out var response) == DnsResponseParser.Outcome.Response)
            {
                return response!;
            }
        }
    }

    private async Task<DnsUpstreamResponse> ExchangeTcpAsync(
        IPEndPoint upstream, ushort id, DnsQuestion question, byte[] query, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(options.UpstreamTimeout);
        using var socket = new Socket(upstream.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(upstream, timeout.Token);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        await DnsTcpFraming.WriteAsync(stream, query, timeout.Token);
        var message = await DnsTcpFraming.ReadAsync(stream, options.MaxUpstreamTcpBytes, timeout.Token)
            ?? throw new InvalidDataException("the TCP answer was cut short or too long");
        if (DnsResponseParser.Parse(message, id, question, out var response) != DnsResponseParser.Outcome.Response
            || response!.Truncated)
        {
            throw new InvalidDataException("the TCP answer does not answer the query");
        }

        return response;
    }
}
