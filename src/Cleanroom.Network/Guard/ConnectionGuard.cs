using System.Net;
using System.Net.Sockets;
using Cleanroom.Network.Dns;
using Microsoft.Extensions.Logging;

namespace Cleanroom.Network.Guard;

/// <summary>
/// A transparent, non-decrypting TCP guard between sandboxes and the addresses their DNS answers gave them. The
/// firewall redirects every guest connection to a learned <c>address . port</c> here. For each, the guard finds the
/// original destination (SO_ORIGINAL_DST), the sandbox (by source address), checks the destination is still learned,
/// connects to it, and lets the guest's bytes through only once its first message is decided: the server name of a
/// TLS ClientHello or the Host of an HTTP/1.x request must be a name the sandbox's policy allows on that port.
/// Two names sharing one address are told apart this way, not only by DNS. A protocol that names no host is
/// relayed (the address was allowed for the port). Refusals reset the guest's connection and are audited.
/// </summary>
public sealed partial class ConnectionGuard : IAsyncDisposable
{
    private readonly ConnectionGuardOptions _options;
    private readonly IDnsClientDirectory _directory;
    private readonly IDestinationCheck _destinations;
    private readonly IOriginalDestination _originalDestination;
    private readonly GuardContext _context;
    private readonly HostAddresses _hostAddresses;
    private readonly ConcurrencyLimiter _connections;
    private readonly BackgroundWork _work = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly ILogger _logger;
    private readonly Lock _lifecycle = new();
    private Socket? _listener;
    private Task _acceptLoop = Task.CompletedTask;
    private bool _stopped;

    /// <summary>Creates a guard; nothing is bound until <see cref="Start"/>.</summary>
    public ConnectionGuard(
        ConnectionGuardOptions options, IDnsClientDirectory directory, IDestinationCheck destinations, IEgressAudit audit, ILogger logger, TimeProvider? time = null)
        : this(options, directory, destinations, audit, logger, time ?? TimeProvider.System, RedirectedDestination.Instance, DirectUpstream.ConnectAsync)
    {
    }

    /// <summary>The seams for tests: where a connection was going, and how the guard reaches it.</summary>
    internal ConnectionGuard(
        ConnectionGuardOptions options, IDnsClientDirectory directory, IDestinationCheck destinations, IEgressAudit audit, ILogger logger,
        TimeProvider time, IOriginalDestination originalDestination, UpstreamConnector connect)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _directory = directory;
        _destinations = destinations;
        _originalDestination = originalDestination;
        _logger = logger;
        _hostAddresses = new HostAddresses(time);
        _connections = new ConcurrencyLimiter(options.MaxConnectionsPerSandbox, options.MaxConnections);
        _context = new GuardContext(options, connect, audit, Statistics, logger, time);
    }

    /// <summary>What the guard accepted, relayed and refused so far.</summary>
    public ConnectionGuardStatistics Statistics { get; } = new();

    /// <summary>The bound endpoint (with the port the system chose when the options said 0). Valid after <see cref="Start"/>.</summary>
    public IPEndPoint LocalEndpoint { get; private set; } = new(IPAddress.Any, 0);

    /// <summary>Binds and starts accepting. Throws <see cref="SocketException"/> when the endpoint cannot be bound.</summary>
    public void Start() => Start(() => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));

    /// <summary>Starts with a listening socket made by <paramref name="create"/> (a test makes it in a namespace).</summary>
    internal void Start(Func<Socket> create)
    {
        lock (_lifecycle)
        {
            ObjectDisposedException.ThrowIf(_stopped, this);
            if (_listener is not null)
            {
                throw new InvalidOperationException("the connection guard is already running");
            }

            var listener = create();
            try
            {
                listener.Bind(_options.Endpoint);
                listener.Listen(512);
            }
            catch
            {
                listener.Dispose();
                throw;
            }

            _listener = listener;
            LocalEndpoint = (IPEndPoint)listener.LocalEndPoint!;
            _acceptLoop = Task.Run(() => AcceptLoopAsync(listener, _stop.Token));
        }
    }

    /// <summary>
    /// Stops accepting, resets every open connection and waits up to <see cref="ConnectionGuardOptions.StopTimeout"/>
    /// for them to end. Idempotent.
    /// </summary>
    public async Task StopAsync()
    {
        lock (_lifecycle)
        {
            if (_stopped)
            {
                return;
            }

            _stopped = true;
        }

        await _stop.CancelAsync();
        _listener?.Dispose();
        var all = Task.WhenAll(_acceptLoop, _work.WhenAllAsync());
        if (await Task.WhenAny(all, Task.Delay(_options.StopTimeout)) != all)
        {
            LogStopSlow(_logger, _options.StopTimeout.TotalSeconds);
        }

        _stop.Dispose();
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync() => await StopAsync();

    private async Task AcceptLoopAsync(Socket listener, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            Socket connection;
            try
            {
                connection = await listener.AcceptAsync(ct);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e)
            {
                // The peer gave up before it was accepted, or descriptors ran out for a moment: keep listening.
                LogAcceptFailed(_logger, e.SocketErrorCode);
                continue;
            }

            try
            {
                Admit(connection, ct);
            }
            catch (SocketException e)
            {
                // The guest reset it between accept and admission (its addresses are no longer readable): not a bug.
                LogAcceptFailed(_logger, e.SocketErrorCode);
                SocketClose.Abort(connection);
            }
            catch (Exception e)
            {
                // The loop serves every sandbox: a connection that trips a bug must not stop it.
                LogAdmitFailed(_logger, e);
                SocketClose.Abort(connection);
            }
        }
    }

    // Runs on the accept loop: memory lookups and one getsockopt only.
    private void Admit(Socket connection, CancellationToken ct)
    {
        Statistics.CountAccepted();
        var source = DnsSource.Normalize(((IPEndPoint)connection.RemoteEndPoint!).Address);
        var client = _directory.Find(source);
        if (client is null)
        {
            Statistics.CountRejectedUnknownSource();
            SocketClose.Abort(connection);
            return;
        }

        var original = _originalDestination.Find(connection);
        if (original is null || original.Equals(connection.LocalEndPoint) || original.Port == 0)
        {
            Statistics.CountRejectedNotRedirected();
            SocketClose.Abort(connection);
            return;
        }

        if (!_connections.TryEnter(client.SandboxId))
        {
            Statistics.CountRejectedOverLimit();
            SocketClose.Abort(connection);
            return;
        }

        connection.NoDelay = true;
        Statistics.CountOpened();
        _work.Start(() => ServeAsync(connection, client, original, ct));
    }

    private async Task ServeAsync(Socket connection, DnsClient client, IPEndPoint original, CancellationToken ct)
    {
        try
        {
            if (!MayConnect(client, original))
            {
                Statistics.CountRefusedDestination();
                LogRefusedDestination(_logger, client.SandboxId, original);
                _context.Audit.Denied(new EgressDenial(client.SandboxId, _context.Time.GetUtcNow(), original.Address.ToString(), original.Port, "tcp", "host_not_allowed"));
                SocketClose.Abort(connection);
                return;
            }

            await new GuardedConnection(connection, client, original, _context).RunAsync(ct);
        }
        catch (Exception e)
        {
            // Background work: a failure is logged, never left unobserved.
            LogServeFailed(_logger, client.SandboxId, e);
            SocketClose.Abort(connection);
        }
        finally
        {
            Statistics.CountClosed();
            _connections.Exit(client.SandboxId);
        }
    }

    // The guard connects from the host: it must never be a way to what the firewall keeps guests from.
    private bool MayConnect(DnsClient client, IPEndPoint original)
    {
        var address = original.Address;
        if (address.AddressFamily != AddressFamily.InterNetwork || _options.Blocked.Any(n => n.Contains(address)) || _hostAddresses.Contains(address))
        {
            return false;
        }

        return client.AllowAll || _destinations.IsLearned(client.SandboxId, address, original.Port);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "guard: accept failed: {Error}")]
    private static partial void LogAcceptFailed(ILogger logger, SocketError error);

    [LoggerMessage(Level = LogLevel.Error, Message = "guard: a connection could not be admitted")]
    private static partial void LogAdmitFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "guard: sandbox {Sandbox} may not reach {Destination} (not learned, blocked, or the host's own)")]
    private static partial void LogRefusedDestination(ILogger logger, string sandbox, IPEndPoint destination);

    [LoggerMessage(Level = LogLevel.Error, Message = "guard: serving a connection of sandbox {Sandbox} failed")]
    private static partial void LogServeFailed(ILogger logger, string sandbox, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "guard: connections did not end within {Seconds} s of stopping")]
    private static partial void LogStopSlow(ILogger logger, double seconds);
}
