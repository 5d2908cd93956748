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
/// IPv4 and IPv6 guests are served alike, by one listener per family sharing the limits, statistics and stop.
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
    private readonly List<Socket> _listeners = [];
    private readonly List<Task> _acceptLoops = [];
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
        if (options.Endpoint.AddressFamily != AddressFamily.InterNetwork)
        {
            throw new ArgumentException("the guard's endpoint must be IPv4; an IPv6 one goes in Endpoint6", nameof(options));
        }

        if (options.Endpoint6 is { AddressFamily: not AddressFamily.InterNetworkV6 })
        {
            throw new ArgumentException("the guard's Endpoint6 must be IPv6", nameof(options));
        }

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

    /// <summary>The bound IPv4 endpoint (with the port the system chose when the options said 0). Valid after <see cref="Start"/>.</summary>
    public IPEndPoint LocalEndpoint { get; private set; } = new(IPAddress.Any, 0);

    /// <summary>
    /// The bound IPv6 endpoint (with the port the system chose when the options said 0), or null when the options name
    /// none. Valid after <see cref="Start"/>.
    /// </summary>
    public IPEndPoint? LocalEndpoint6 { get; private set; }

    /// <summary>
    /// Binds the IPv4 endpoint and, when the options name one, the IPv6 endpoint, and starts accepting on both. Throws
    /// <see cref="SocketException"/> when either cannot be bound; then neither is left bound.
    /// </summary>
    public void Start() => Start(family => new Socket(family, SocketType.Stream, ProtocolType.Tcp));

    /// <summary>Starts with listening sockets made by <paramref name="create"/> for each family (a test makes them in a namespace).</summary>
    internal void Start(Func<AddressFamily, Socket> create)
    {
        lock (_lifecycle)
        {
            ObjectDisposedException.ThrowIf(_stopped, this);
            if (_listeners.Count != 0)
            {
                throw new InvalidOperationException("the connection guard is already running");
            }

            var listener = Bind(create, _options.Endpoint);
            Socket? listener6 = null;
            if (_options.Endpoint6 is { } endpoint6)
            {
                try
                {
                    listener6 = Bind(create, endpoint6);
                }
                catch
                {
                    listener.Dispose();
                    throw;
                }
            }

            LocalEndpoint = (IPEndPoint)listener.LocalEndPoint!;
            LocalEndpoint6 = (IPEndPoint?)listener6?.LocalEndPoint;
            foreach (var bound in new[] { listener, listener6 }.OfType<Socket>())
            {
                _listeners.Add(bound);
                _acceptLoops.Add(Task.Run(() => AcceptLoopAsync(bound, _stop.Token)));
            }
        }
    }

    private static Socket Bind(Func<AddressFamily, Socket> create, IPEndPoint endpoint)
    {
        var listener = create(endpoint.AddressFamily);
        try
        {
            if (endpoint.AddressFamily == AddressFamily.InterNetworkV6)
            {
                // IPV6_V6ONLY: IPv4 guests stay on the IPv4 listener, where SO_ORIGINAL_DST answers for them.
                listener.DualMode = false;
            }

            listener.Bind(endpoint);
            listener.Listen(512);
            return listener;
        }
        catch
        {
            listener.Dispose();
            throw;
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
        Task[] loops;
        lock (_lifecycle)
        {
            foreach (var listener in _listeners)
            {
                listener.Dispose();
            }

            loops = [.. _acceptLoops];
        }

        var all = Task.WhenAll([.. loops, _work.WhenAllAsync()]);
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
        // An IPv4-mapped IPv6 address never arrives on the wire; as a destination it would dodge the IPv4 ranges.
        if (address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)
            || address.IsIPv4MappedToIPv6
            || _options.Blocked.Any(n => n.Contains(address))
            || _hostAddresses.Contains(address))
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
