using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cleanroom.Network.Nflog;

/// <summary>
/// Turns the packets the firewall logs to one NFLOG group (<c>log group N</c> before a drop) into
/// <see cref="EgressDenial"/> events. It owns a netlink socket bound to the group and a dedicated thread that blocks in
/// poll(2) on that socket and on a stop eventfd, so it costs nothing while idle and stops at once. Hostile or
/// truncated packets are counted and skipped; lost kernel messages (ENOBUFS) are counted; events beyond a sandbox's
/// rate are counted as suppressed. See <see cref="Statistics"/>.
/// </summary>
public sealed class NflogReader : IAsyncDisposable
{
    /// <summary>Larger than any datagram the kernel builds for NFLOG (its batch buffer is at most 128 KiB).</summary>
    private const int DatagramBufferBytes = 256 * 1024;

    /// <summary>Datagrams read per wake-up before the stop signal is looked at again, so a flood cannot delay a stop.</summary>
    private const int MaxDatagramsPerWake = 256;

    private readonly NetlinkSocket _socket;
    private readonly StopSignal _stop;
    private readonly DenialDispatcher _dispatcher;
    private readonly NflogCounters _counters;
    private readonly ILogger _logger;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _stopRequested;
    private int _released;
    private int _parserFailureLogged;

    private NflogReader(ushort group, NetlinkSocket socket, StopSignal stop, DenialDispatcher dispatcher, NflogCounters counters, ILogger logger)
    {
        Group = group;
        _socket = socket;
        _stop = stop;
        _dispatcher = dispatcher;
        _counters = counters;
        _logger = logger;
    }

    /// <summary>The group this reader is bound to.</summary>
    public ushort Group { get; }

    /// <summary>A snapshot of the counters.</summary>
    public NflogReaderStatistics Statistics => _counters.Snapshot();

    /// <summary>
    /// Completes when the receive thread ends: successfully after a stop, faulted with an <see cref="NflogException"/>
    /// if the socket failed in a way it cannot continue past (the daemon should report NFLOG as down).
    /// </summary>
    public Task Completion => _completion.Task;

    /// <summary>
    /// Binds <paramref name="options"/>' group and starts reading. Throws <see cref="NflogException"/> (with what to
    /// fix) when NFLOG is unusable here or the group is taken.
    /// </summary>
    /// <param name="options">The group and bounds.</param>
    /// <param name="sandboxOf">The sandbox a logged packet belongs to, or null if none (counted as unattributed).
    /// Called on the receive thread: it must be quick and must not block. Prefer
    /// <see cref="LoggedPacket.InputInterfaceIndex"/> (the sandbox's TAP, set by the kernel) or the rule's
    /// <see cref="LoggedPacket.Prefix"/> over <see cref="LoggedPacket.Source"/>, which the guest writes.</param>
    /// <param name="audit">Receives the denials, on the receive thread.</param>
    /// <param name="logger">For the first failure of each kind; later ones are only counted.</param>
    /// <param name="timeProvider">The clock for event times and rates; the system clock by default.</param>
    public static NflogReader Start(
        NflogReaderOptions options,
        Func<LoggedPacket, string?> sandboxOf,
        IEgressAudit audit,
        ILogger? logger = null,
        TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(sandboxOf);
        ArgumentNullException.ThrowIfNull(audit);
        options.Validate();
        logger ??= NullLogger.Instance;
        timeProvider ??= TimeProvider.System;

        var stop = StopSignal.Create();
        NetlinkSocket socket;
        try
        {
            socket = NflogSubscription.Open(options);
        }
        catch
        {
            stop.Dispose();
            throw;
        }

        var counters = new NflogCounters();
        var limiter = new SandboxRateLimiter(options.EventsPerSecondPerSandbox, options.BurstPerSandbox, timeProvider);
        var dispatcher = new DenialDispatcher(options.Group, sandboxOf, audit, limiter, counters, timeProvider, logger);
        var reader = new NflogReader(options.Group, socket, stop, dispatcher, counters, logger);
        new Thread(reader.Run) { IsBackground = true, Name = $"nflog-{options.Group}" }.Start();
        return reader;
    }

    /// <summary>
    /// Stops the receive thread, waits for it, and closes the socket (which unbinds the group). Idempotent; does not
    /// throw when the thread had already failed (see <see cref="Completion"/>).
    /// </summary>
    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopRequested, 1) == 0)
        {
            _stop.Set();
        }

        await _completion.Task.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            // Only now: the thread no longer uses either descriptor.
            _socket.Dispose();
            _stop.Dispose();
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    private void Run()
    {
        var buffer = new byte[DatagramBufferBytes];
        try
        {
            while (_socket.WaitReadable(_stop, timeoutMilliseconds: -1) == NetlinkSocket.WaitOutcome.Readable)
            {
                Drain(buffer);
            }

            _completion.TrySetResult();
        }
#pragma warning disable CA1031 // The thread's end, whatever caused it, is reported through Completion.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _logger.LogError(ex, "The NFLOG reader for group {Group} stopped: {Message}", Group, ex.Message);
            _completion.TrySetException(ex);
        }
    }

    /// <summary>
    /// The parser is written not to throw on any input; should a bug prove otherwise on hostile bytes, that datagram is
    /// counted as malformed and the reader carries on rather than going deaf.
    /// </summary>
    private void DispatchGuarded(ReadOnlySpan<byte> datagram)
    {
        try
        {
            _dispatcher.Dispatch(datagram);
        }
#pragma warning disable CA1031 // See above: one bad datagram must not end the reader.
        catch (Exception ex) when (ex is not OutOfMemoryException)
#pragma warning restore CA1031
        {
            Interlocked.Increment(ref _counters.Malformed);
            if (Interlocked.Exchange(ref _parserFailureLogged, 1) == 0)
            {
                _logger.LogError(ex, "NFLOG group {Group}: a datagram could not be parsed; further ones are only counted.", Group);
            }
        }
    }

    private void Drain(byte[] buffer)
    {
        for (var i = 0; i < MaxDatagramsPerWake; i++)
        {
            var received = _socket.TryReceive(buffer);
            switch (received.Status)
            {
                case ReceiveStatus.WouldBlock:
                    return;
                case ReceiveStatus.KernelDropped:
                    Interlocked.Increment(ref _counters.KernelDrops);
                    continue;
            }

            if (received.Length > buffer.Length)
            {
                Interlocked.Increment(ref _counters.Truncated);
            }
            else if (received.SenderPortId != 0)
            {
                Interlocked.Increment(ref _counters.ForeignSenders);
            }
            else
            {
                DispatchGuarded(buffer.AsSpan(0, received.Length));
            }
        }
    }
}
