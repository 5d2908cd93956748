using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Cleanroom.Network.Dns;

/// <summary>
/// Serves DNS over UDP on one endpoint. The receive loop decides each datagram at once (drops, refusals and error
/// answers are sent from the loop) and hands only allowed lookups to background work, within the in-flight bounds.
/// Nothing a datagram holds can end the loop.
/// </summary>
internal sealed class DnsUdpListener : IDisposable
{
    private readonly Socket _socket;
    private readonly DnsFilterOptions _options;
    private readonly IDnsClientDirectory _directory;
    private readonly DnsQueryHandler _handler;
    private readonly ConcurrencyLimiter _inFlight;
    private readonly BackgroundWork _work;
    private readonly DnsFilterStatistics _statistics;
    private readonly ILogger _logger;

    public DnsUdpListener(
        IPEndPoint endpoint, DnsFilterOptions options, IDnsClientDirectory directory, DnsQueryHandler handler,
        ConcurrencyLimiter inFlight, BackgroundWork work, DnsFilterStatistics statistics, ILogger logger)
    {
        _options = options;
        _directory = directory;
        _handler = handler;
        _inFlight = inFlight;
        _work = work;
        _statistics = statistics;
        _logger = logger;
        _socket = new Socket(endpoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            _socket.Bind(endpoint);
        }
        catch
        {
            _socket.Dispose();
            throw;
        }

        LocalEndpoint = (IPEndPoint)_socket.LocalEndPoint!;
    }

    /// <summary>The bound address and port.</summary>
    public IPEndPoint LocalEndpoint { get; }

    public async Task RunAsync(CancellationToken ct)
    {
        // One byte more than accepted, so an oversized datagram shows as one instead of being silently cut.
        var buffer = new byte[_options.MaxQueryBytes + 1];
        var anySource = new IPEndPoint(LocalEndpoint.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        while (!ct.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, anySource, ct);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e)
            {
                // Transient (an ICMP error for an earlier answer, an oversized datagram): the socket is still usable.
                _logger.LogDebug("DNS UDP receive on {Endpoint} failed: {Error}", LocalEndpoint, e.SocketErrorCode);
                continue;
            }

            try
            {
                Handle(buffer.AsSpan(0, received.ReceivedBytes), (IPEndPoint)received.RemoteEndPoint, ct);
            }
            catch (Exception e)
            {
                // The loop serves every sandbox: a datagram that trips a bug must not stop it.
                _logger.LogError(e, "DNS UDP datagram from {Source} could not be handled", received.RemoteEndPoint);
            }
        }
    }

    private void Handle(ReadOnlySpan<byte> datagram, IPEndPoint source, CancellationToken ct)
    {
        _statistics.CountReceived();
        var client = _directory.Find(DnsSource.Normalize(source.Address));
        if (client is null)
        {
            _statistics.CountDroppedUnknownSource();
            return;
        }

        if (datagram.Length > _options.MaxQueryBytes)
        {
            _statistics.CountDroppedMalformed();
            return;
        }

        var decision = _handler.Decide(client, datagram, overTcp: false);
        if (decision.Response is { } response)
        {
            Send(response, source);
        }
        else if (decision.Lookup is { } lookup)
        {
            if (!_inFlight.TryEnter(client.SandboxId))
            {
                _statistics.CountDroppedOverLimit();
                return;
            }

            _work.Start(() => ResolveAndSendAsync(client, lookup, source, ct));
        }
    }

    private async Task ResolveAndSendAsync(DnsClient client, DnsLookup lookup, IPEndPoint source, CancellationToken ct)
    {
        try
        {
            Send(await _handler.ResolveAsync(client, lookup, ct), source);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Stopping: the guest's resolver retries elsewhere or later.
        }
        catch (Exception e)
        {
            // Background work: a failure is logged, never left unobserved.
            _logger.LogError(e, "DNS lookup for sandbox {Sandbox} failed", client.SandboxId);
        }
        finally
        {
            _inFlight.Exit(client.SandboxId);
        }
    }

    private void Send(byte[] response, IPEndPoint destination)
    {
        try
        {
            // A UDP send does not wait for the peer; from the loop it costs no more than a copy into the kernel.
            _socket.SendTo(response, SocketFlags.None, destination);
            _statistics.CountAnswered();
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            _logger.LogDebug("DNS UDP answer to {Destination} not sent: {Error}", destination, e.Message);
        }
    }

    public void Dispose() => _socket.Dispose();
}
