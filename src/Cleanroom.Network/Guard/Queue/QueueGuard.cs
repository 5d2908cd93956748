using Cleanroom.Network.Dns;
using Cleanroom.Network.Nflog;
using Microsoft.Extensions.Logging;

namespace Cleanroom.Network.Guard.Queue;

/// <summary>
/// The connection guard without a second TCP stack: the firewall forwards a guest's connection to a learned
/// destination as it is, but sends the guest's packets to NFQUEUE <see cref="QueueGuardOptions.QueueNumber"/> until the
/// connection is marked. This reads them on one thread of its own (poll(2) on the netlink socket and a stop eventfd),
/// holds payload until the first message is decided (<see cref="QueueFlowTable"/>), marks the connection in conntrack
/// (<see cref="QueueGuardMarks"/>) and gives every packet its verdict. After the mark, the connection's packets never
/// leave the kernel again. If this stops reading, the kernel drops the queued packets: nothing passes unchecked.
/// </summary>
public sealed partial class QueueGuard : IAsyncDisposable
{
    /// <summary>Larger than one packet message (a 64 KiB copy and its attributes).</summary>
    private const int DatagramBufferBytes = 128 * 1024;

    /// <summary>Datagrams read per wake-up before verdicts are flushed and timers looked at.</summary>
    private const int MaxDatagramsPerWake = 64;

    /// <summary>How often undecided connections are checked for their deadlines.</summary>
    private const int SweepMilliseconds = 200;

    /// <summary>Verdicts are sent in one datagram; past this many bytes they are flushed early.</summary>
    private const int MaxBatchBytes = 32 * 1024;

    private readonly QueueGuardOptions _options;
    private readonly NetlinkSocket _socket;
    private readonly ConntrackMarker _marker;
    private readonly StopSignal _stop;
    private readonly QueueFlowTable _table;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Actions _actions;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _stopRequested;
    private int _released;
    private int _failureLogged;

    private QueueGuard(
        QueueGuardOptions options, NetlinkSocket socket, ConntrackMarker marker, StopSignal stop, QueueFlowTable table, QueueGuardStatistics statistics, ILogger logger, TimeProvider time)
    {
        Statistics = statistics;
        _options = options;
        _socket = socket;
        _marker = marker;
        _stop = stop;
        _table = table;
        _logger = logger;
        _time = time;
        _actions = new Actions(this);
    }

    /// <summary>What the guard saw and decided so far.</summary>
    public QueueGuardStatistics Statistics { get; }

    /// <summary>Completes when the queue thread ends: after a stop, or faulted when the socket failed.</summary>
    public Task Completion => _completion.Task;

    /// <summary>
    /// Binds the queue and starts reading it. Throws <see cref="NflogException"/> when the queue cannot be bound
    /// (no permission, or another process has it).
    /// </summary>
    public static QueueGuard Start(
        QueueGuardOptions options, IDnsClientDirectory directory, IDestinationCheck destinations, IEgressAudit audit, ILogger logger, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        time ??= TimeProvider.System;
        var statistics = new QueueGuardStatistics();
        NetlinkSocket? socket = null;
        ConntrackMarker? marker = null;
        StopSignal? stop = null;
        try
        {
            socket = Bind(options);
            marker = ConntrackMarker.Open(options.NetworkNamespacePath);
            stop = StopSignal.Create();
            var table = new QueueFlowTable(options, directory, destinations, audit, statistics, logger, time);
            var guard = new QueueGuard(options, socket, marker, stop, table, statistics, logger, time);
            new Thread(guard.Run) { IsBackground = true, Name = $"nfqueue-{options.QueueNumber}" }.Start();
            return guard;
        }
        catch
        {
            socket?.Dispose();
            marker?.Dispose();
            stop?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Stops the thread (what it holds is dropped), waits for it and closes the sockets, which unbinds the queue: from
    /// then on the kernel drops what the firewall queues. Idempotent.
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
            _socket.Dispose();
            _marker.Dispose();
            _stop.Dispose();
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync() => await StopAsync();

    private static NetlinkSocket Bind(QueueGuardOptions options)
    {
        var socket = options.NetworkNamespacePath is null
            ? NetlinkSocket.Open(LinuxNative.NetlinkNetfilter)
            : NetworkNamespace.Run(options.NetworkNamespacePath, () => NetlinkSocket.Open(LinuxNative.NetlinkNetfilter));
        try
        {
            socket.SetReceiveBuffer(options.ReceiveBufferBytes);
            var errno = NetlinkAck.Exchange(
                socket, NfqueueProtocol.BindRequest(options.QueueNumber, 1, options.CopyRange, options.KernelQueueLength), 1, TimeSpan.FromSeconds(5));
            return errno switch
            {
                0 => socket,
                LinuxNative.EPERM => throw new NflogException("NFQUEUE needs CAP_NET_ADMIN in the network namespace: run the daemon as root.", errno),
                LinuxNative.EBUSY => throw new NflogException(
                    $"NFQUEUE {options.QueueNumber} is already bound by another process in this network namespace: choose another queue number.", errno),
                _ => throw new NflogException($"The kernel refused to bind NFQUEUE {options.QueueNumber}: {LinuxNative.Describe(errno)}.", errno),
            };
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private void Run()
    {
        var buffer = new byte[DatagramBufferBytes];
        var nextSweep = _time.GetTimestamp();
        try
        {
            while (true)
            {
                var outcome = _socket.WaitReadable(_stop, SweepMilliseconds);
                if (outcome == NetlinkSocket.WaitOutcome.Stopped)
                {
                    break;
                }

                if (outcome == NetlinkSocket.WaitOutcome.Readable)
                {
                    Drain(buffer);
                }

                if (_time.GetElapsedTime(nextSweep) >= TimeSpan.FromMilliseconds(SweepMilliseconds))
                {
                    nextSweep = _time.GetTimestamp();
                    Guarded(() => _table.Sweep(_actions));
                }

                _actions.Flush();
                Statistics.SetGauges(_table.Flows, _table.HeldPackets, _table.HeldBytes);
            }

            _table.DropAll(_actions);
            _actions.Flush();
            _completion.TrySetResult();
        }
#pragma warning disable CA1031 // The thread's end, whatever caused it, is reported through Completion.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogStopped(_logger, _options.QueueNumber, ex);
            _completion.TrySetException(ex);
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
                    // The kernel could not deliver those packets, so it dropped them: fail closed, only counted.
                    Statistics.CountKernelDrop();
                    continue;
            }

            if (received.SenderPortId != 0 || received.Length > buffer.Length)
            {
                Statistics.CountUnparsable();
                continue;
            }

            var datagram = buffer.AsSpan(0, received.Length);
            var reader = new NetlinkMessageReader(datagram);
            while (reader.TryRead(out var message))
            {
                if (message.Type == NfqueueProtocol.PacketMessageType)
                {
                    HandleGuarded(message.Payload);
                }
            }

            _actions.FlushIfLarge();
        }
    }

    private void HandleGuarded(ReadOnlySpan<byte> body)
    {
        Statistics.CountPacket();
        if (!QueuedPacketParser.TryParse(body, _options.QueueNumber, out var packet, out var usable))
        {
            // No id, so no verdict can be given: not a message the kernel writes.
            Statistics.CountUnparsable();
            return;
        }

        try
        {
            if (!usable || packet.Truncated)
            {
                _table.OnUnreadable(packet.Id, packet.Payload, _actions);
                return;
            }

            if (TcpSegmentParser.TryParse(packet.Payload, packet.Family, out var segment) != SegmentFailure.None)
            {
                _table.OnUnreadable(packet.Id, packet.Payload, _actions);
                return;
            }

            _table.OnSegment(packet.Id, segment, _actions);
        }
#pragma warning disable CA1031 // One packet that trips a bug must not stop the guard for every sandbox; it is dropped.
        catch (Exception ex) when (ex is not OutOfMemoryException)
#pragma warning restore CA1031
        {
            _actions.Drop(packet.Id);
            Statistics.CountDropped();
            if (Interlocked.Exchange(ref _failureLogged, 1) == 0)
            {
                LogPacketFailed(_logger, ex);
            }
        }
    }

    private void Guarded(Action action)
    {
        try
        {
            action();
        }
#pragma warning disable CA1031 // See HandleGuarded.
        catch (Exception ex) when (ex is not OutOfMemoryException)
#pragma warning restore CA1031
        {
            if (Interlocked.Exchange(ref _failureLogged, 1) == 0)
            {
                LogPacketFailed(_logger, ex);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "The queue guard on NFQUEUE {Queue} stopped; undecided connections are dropped from now on")]
    private static partial void LogStopped(ILogger logger, ushort queue, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "queue guard: a packet could not be handled (dropped); further failures are only counted")]
    private static partial void LogPacketFailed(ILogger logger, Exception exception);

    /// <summary>Verdicts gathered into one datagram; marks go to conntrack at once (before the verdicts that rely on them).</summary>
    private sealed class Actions(QueueGuard guard) : IQueueActions
    {
        private readonly List<byte> _batch = new(4096);

        public void Accept(uint packetId) => NfqueueProtocol.AppendVerdict(_batch, guard._options.QueueNumber, packetId, NfqueueProtocol.VerdictAccept);

        public void Drop(uint packetId) => NfqueueProtocol.AppendVerdict(_batch, guard._options.QueueNumber, packetId, NfqueueProtocol.VerdictDrop);

        public bool Mark(FlowKey key, uint bits)
        {
            try
            {
                return guard._marker.Mark(key, bits) == 0;
            }
            catch (NflogException)
            {
                return false;
            }
        }

        public void FlushIfLarge()
        {
            if (_batch.Count >= MaxBatchBytes)
            {
                Flush();
            }
        }

        public void Flush()
        {
            if (_batch.Count == 0)
            {
                return;
            }

            var datagram = _batch.ToArray();
            _batch.Clear();
            guard._socket.Send(datagram);
        }
    }
}
