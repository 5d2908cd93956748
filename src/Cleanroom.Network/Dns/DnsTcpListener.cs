using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Cleanroom.Network.Dns;

/// <summary>
/// Serves DNS over TCP on one endpoint (RFC 1035 §4.2.2, RFC 7766). Connections from unknown sources and connections
/// over the per-sandbox or total bound are closed on arrival. Each connection is served one query at a time, must
/// deliver each whole query within the idle timeout, and is closed after a bounded number of queries.
/// </summary>
internal sealed class DnsTcpListener : IDisposable
{
    private readonly Socket _socket;
    private readonly DnsFilterOptions _options;
    private readonly IDnsClientDirectory _directory;
    private readonly DnsQueryHandler _handler;
    private readonly ConcurrencyLimiter _inFlight;
    private readonly ConcurrencyLimiter _connections;
    private readonly BackgroundWork _work;
    private readonly DnsFilterStatistics _statistics;
    private readonly ILogger _logger;

    public DnsTcpListener(
        IPEndPoint endpoint, DnsFilterOptions options, IDnsClientDirectory directory, DnsQueryHandler handler,
        ConcurrencyLimiter inFlight, ConcurrencyLimiter connections, BackgroundWork work, DnsFilterStatistics statistics, ILogger logger)
    {
        _options = options;
        _directory = directory;
        _handler = handler;
        _inFlight = inFlight;
        _connections = connections;
        _work = work;
        _statistics = statistics;
        _logger = logger;
        _socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            _socket.Bind(endpoint);
            _socket.Listen(128);
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
        while (!ct.IsCancellationRequested)
        {
            Socket connection;
            try
            {
                connection = await _socket.AcceptAsync(ct);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e)
            {
                // The peer gave up before it was accepted, or descriptors ran out for a moment: keep listening.
                _logger.LogDebug("DNS TCP accept on {Endpoint} failed: {Error}", LocalEndpoint, e.SocketErrorCode);
                continue;
            }

            try
            {
                Admit(connection, ct);
            }
            catch (Exception e)
            {
                // The loop serves every sandbox: a connection that trips a bug must not stop it.
                _logger.LogError(e, "DNS TCP connection on {Endpoint} could not be admitted", LocalEndpoint);
                connection.Dispose();
            }
        }
    }

    private void Admit(Socket connection, CancellationToken ct)
    {
        var source = DnsSource.Normalize(((IPEndPoint)connection.RemoteEndPoint!).Address);
        var client = _directory.Find(source);
        if (client is null || !_connections.TryEnter(client.SandboxId))
        {
            _statistics.CountRejectedConnection();
            connection.Dispose();
            return;
        }

        _work.Start(() => ServeAsync(connection, client, ct));
    }

    private async Task ServeAsync(Socket connection, DnsClient client, CancellationToken ct)
    {
        try
        {
            await using var stream = new NetworkStream(connection, ownsSocket: true);
            for (var served = 0; served < _options.MaxQueriesPerTcpConnection; served++)
            {
                using var idle = CancellationTokenSource.CreateLinkedTokenSource(ct);
                idle.CancelAfter(_options.TcpIdleTimeout);
                var message = await DnsTcpFraming.ReadAsync(stream, _options.MaxQueryBytes, idle.Token);
                if (message is null)
                {
                    return;
                }

                _statistics.CountReceived();
                var response = await AnswerAsync(client, message, ct);
                if (response is null)
                {
                    // Over the in-flight bound: closing is the TCP way to drop (the guest retries or gives up).
                    return;
                }

                if (response.Length > 0)
                {
                    using var write = CancellationTokenSource.CreateLinkedTokenSource(ct);
                    write.CancelAfter(_options.TcpIdleTimeout);
                    await DnsTcpFraming.WriteAsync(stream, response, write.Token);
                    _statistics.CountAnswered();
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
            // Idle, too slow, reset by the guest, or the filter stopping: the connection simply ends.
        }
        catch (Exception e)
        {
            // Background work: a failure is logged, never left unobserved.
            _logger.LogError(e, "DNS TCP connection from sandbox {Sandbox} failed", client.SandboxId);
        }
        finally
        {
            connection.Dispose();
            _connections.Exit(client.SandboxId);
        }
    }

    // The answer to send; empty for a message to drop without closing; null when the connection must be closed.
    private async Task<byte[]?> AnswerAsync(DnsClient client, byte[] message, CancellationToken ct)
    {
        var decision = _handler.Decide(client, message, overTcp: true);
        if (decision.Lookup is not { } lookup)
        {
            return decision.Response ?? [];
        }

        if (!_inFlight.TryEnter(client.SandboxId))
        {
            _statistics.CountDroppedOverLimit();
            return null;
        }

        try
        {
            return await _handler.ResolveAsync(client, lookup, ct);
        }
        finally
        {
            _inFlight.Exit(client.SandboxId);
        }
    }

    public void Dispose() => _socket.Dispose();
}
