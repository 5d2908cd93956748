using System.Net;
using Microsoft.Extensions.Logging;

namespace Cleanroom.Network.Dns;

/// <summary>
/// The host-side DNS server every sandbox resolves through, over UDP and TCP on each configured endpoint. It knows
/// sandboxes by the source address of their queries (<see cref="IDnsClientDirectory"/>), answers only names their
/// policy allows, opens the firewall for the addresses of an answer before the guest sees them
/// (<see cref="IEgressAllowance"/>), and reports refusals (<see cref="IEgressAudit"/>). A refused name is never sent
/// upstream. Upstream queries are built afresh; guest bytes never leave the host.
/// </summary>
public sealed class DnsFilter : IAsyncDisposable
{
    private readonly DnsFilterOptions _options;
    private readonly IDnsClientDirectory _directory;
    private readonly ILogger _logger;
    private readonly DnsQueryHandler _handler;
    private readonly ConcurrencyLimiter _inFlight;
    private readonly ConcurrencyLimiter _tcpConnections;
    private readonly BackgroundWork _work = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<DnsUdpListener> _udp = [];
    private readonly List<DnsTcpListener> _tcp = [];
    private readonly Lock _lock = new();
    private Task? _stopped;
    private bool _started;

    /// <summary>Creates a filter; nothing is bound until <see cref="Start"/>.</summary>
    public DnsFilter(
        DnsFilterOptions options,
        IDnsClientDirectory directory,
        IEgressAllowance allowance,
        IEgressAudit audit,
        ILogger<DnsFilter> logger,
        TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentNullException.ThrowIfNull(allowance);
        ArgumentNullException.ThrowIfNull(audit);
        ArgumentNullException.ThrowIfNull(logger);
        options.Validate();
        _options = options;
        _directory = directory;
        _logger = logger;
        _inFlight = new ConcurrencyLimiter(options.MaxInFlightPerClient, options.MaxInFlightTotal);
        _tcpConnections = new ConcurrencyLimiter(options.MaxTcpConnectionsPerClient, options.MaxTcpConnectionsTotal);
        _handler = new DnsQueryHandler(
            options, new UpstreamResolver(options, logger), allowance, audit, Statistics, timeProvider ?? TimeProvider.System, logger);
    }

    /// <summary>What the filter has received, answered, refused and dropped so far.</summary>
    public DnsFilterStatistics Statistics { get; } = new();

    /// <summary>The UDP endpoints as bound (with the port the system chose where the options said 0).</summary>
    public IReadOnlyList<IPEndPoint> UdpEndpoints => [.. _udp.Select(l => l.LocalEndpoint)];

    /// <summary>The TCP endpoints as bound; a port 0 in the options gets its own port here, not necessarily the UDP one.</summary>
    public IReadOnlyList<IPEndPoint> TcpEndpoints => [.. _tcp.Select(l => l.LocalEndpoint)];

    /// <summary>
    /// Binds every endpoint (UDP and TCP) and starts serving. If any bind fails, nothing stays bound and the
    /// <see cref="System.Net.Sockets.SocketException"/> is thrown.
    /// </summary>
    public void Start()
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_stopped is not null, this);
            if (_started)
            {
                throw new InvalidOperationException("the DNS filter is already started");
            }

            try
            {
                foreach (var endpoint in _options.ListenEndpoints)
                {
                    _udp.Add(new DnsUdpListener(endpoint, _options, _directory, _handler, _inFlight, _work, Statistics, _logger));
                    _tcp.Add(new DnsTcpListener(endpoint, _options, _directory, _handler, _inFlight, _tcpConnections, _work, Statistics, _logger));
                }
            }
            catch
            {
                DisposeListeners();
                _udp.Clear();
                _tcp.Clear();
                throw;
            }

            _started = true;
            var ct = _stopping.Token;
            foreach (var listener in _udp)
            {
                _work.Start(() => listener.RunAsync(ct));
            }

            foreach (var listener in _tcp)
            {
                _work.Start(() => listener.RunAsync(ct));
            }

            _logger.LogInformation("DNS filter serving on {Endpoints}, resolving through {Upstreams}",
                string.Join(", ", UdpEndpoints), string.Join(", ", _options.Upstreams));
        }
    }

    /// <summary>
    /// Stops serving: closes the listeners and TCP connections, abandons queries in progress (their guests get no
    /// answer), and waits up to <see cref="DnsFilterOptions.StopTimeout"/> for every loop to end. Idempotent.
    /// </summary>
    public Task StopAsync()
    {
        lock (_lock)
        {
            return _stopped ??= StopOnceAsync();
        }
    }

    private async Task StopOnceAsync()
    {
        await _stopping.CancelAsync();
        DisposeListeners();
        try
        {
            await _work.WhenAllAsync().WaitAsync(_options.StopTimeout);
            _stopping.Dispose();
        }
        catch (TimeoutException)
        {
            // Work still running may yet link to the cancelled token, so its source stays undisposed.
            _logger.LogWarning("DNS filter: some work had not ended {Timeout} after stopping", _options.StopTimeout);
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync() => await StopAsync();

    private void DisposeListeners()
    {
        foreach (var listener in _udp)
        {
            listener.Dispose();
        }

        foreach (var listener in _tcp)
        {
            listener.Dispose();
        }
    }
}
