using System.Net;
using System.Net.Sockets;
using Cleanroom.Escaping;
using Cleanroom.Network.Dns;
using Microsoft.Extensions.Logging;

namespace Cleanroom.Network.Guard.Queue;

/// <summary>
/// The queue guard's decisions, without the kernel: fed every queued TCP segment from guests (in arrival order), it
/// tracks each connection from its handshake, accepts packets without payload at once, holds payload until the first
/// message can be decided as the proxy guard decides it (<see cref="FirstMessageClassifier"/>, the policy on the
/// destination port, the same audit events), then marks the connection and releases or drops what it held.
/// Everything is bounded: undecided connections per sandbox and in all, held packets and bytes per connection and
/// in all, time to the first message, idle time, and remembered decisions. Whatever cannot be read is dropped.
/// Single-threaded: only the queue thread calls it.
/// </summary>
internal sealed partial class QueueFlowTable(
    QueueGuardOptions options, IDnsClientDirectory directory, IDestinationCheck destinations, IEgressAudit audit,
    QueueGuardStatistics statistics, ILogger logger, TimeProvider time)
{
    private const string Protocol = "tcp";
    private const string Reason = "host_not_allowed";

    private readonly Dictionary<FlowKey, QueueFlow> _flows = [];
    private readonly Dictionary<string, int> _flowsPerSandbox = new(StringComparer.Ordinal);
    private readonly Dictionary<FlowKey, (bool Allowed, DateTimeOffset At)> _decided = [];
    private readonly Queue<(FlowKey Key, DateTimeOffset At)> _decidedOrder = new();
    private int _heldPackets;
    private long _heldBytes;

    /// <summary>Undecided connections now.</summary>
    public int Flows => _flows.Count;

    /// <summary>Packets held now.</summary>
    public int HeldPackets => _heldPackets;

    /// <summary>Payload bytes held now.</summary>
    public long HeldBytes => _heldBytes;

    /// <summary>Decisions remembered now.</summary>
    public int Decided => _decided.Count;

    /// <summary>
    /// A queued packet that is not one readable TCP segment: dropped. When its addresses are readable and belong to a
    /// sandbox, the refusal is audited against that sandbox, by destination address.
    /// </summary>
    public void OnUnreadable(uint packetId, ReadOnlySpan<byte> packet, IQueueActions actions)
    {
        statistics.CountUnparsable();
        Drop(packetId, actions);
        if (TcpSegmentParser.TryReadAddresses(packet, out var v6, out var source, out var destination))
        {
            var key = new FlowKey(v6, source, destination, 0, 0);
            if (directory.Find(DnsSource.Normalize(key.SourceAddress)) is { } client)
            {
                audit.Denied(new EgressDenial(client.SandboxId, time.GetUtcNow(), key.DestinationAddress.ToString(), 0, Protocol, Reason));
            }
        }
    }

    /// <summary>Handles one queued segment: every packet gets exactly one verdict, now or when its connection is decided.</summary>
    public void OnSegment(uint packetId, in TcpSegment segment, IQueueActions actions)
    {
        var key = segment.Key;
        var client = directory.Find(DnsSource.Normalize(key.SourceAddress));
        if (client is null)
        {
            // The firewall's guard chain admits only sandboxes' own addresses: this is a stale or foreign packet.
            statistics.CountRejectedUnknownSource();
            Drop(packetId, actions);
            return;
        }

        if (segment.Flags == TcpFlags.Syn && _decided.Remove(key))
        {
            // A new connection on the ports of a decided one (the guest reused them): it gets a decision of its own,
            // never the old one's.
        }

        if (_decided.TryGetValue(key, out var decided))
        {
            // Queued before the mark took effect (or a packet the firewall sent back): the decision stands.
            if (decided.Allowed)
            {
                Accept(packetId, actions);
            }
            else
            {
                Drop(packetId, actions);
            }

            return;
        }

        if (!_flows.TryGetValue(key, out var flow))
        {
            OnUntracked(packetId, segment, client, actions);
            return;
        }

        flow.LastSeen = time.GetUtcNow();
        if (segment.Has(TcpFlags.Rst))
        {
            // The guest gave up: nothing it held may pass, the reset may (it opens nothing).
            DropHeld(flow, actions);
            Forget(flow);
            Accept(packetId, actions);
            return;
        }

        if (segment.Has(TcpFlags.Syn))
        {
            OnRepeatedHandshake(packetId, segment, flow, actions);
            return;
        }

        if (segment.Payload.IsEmpty && !segment.Has(TcpFlags.Fin))
        {
            // A pure acknowledgement carries nothing to the server.
            Accept(packetId, actions);
            return;
        }

        Hold(packetId, segment, flow, actions);
    }

    /// <summary>Ends what has run out of time: first messages past their deadline, silent connections, old decisions.</summary>
    public void Sweep(IQueueActions actions)
    {
        var now = time.GetUtcNow();
        foreach (var flow in _flows.Values.ToList())
        {
            if (flow.FirstDataAt is { } first && now - first >= options.FirstMessageTimeout)
            {
                Unreadable(flow, "a first message not finished in time", actions);
            }
            else if (now - flow.LastSeen >= options.IdleTimeout)
            {
                statistics.CountEvicted();
                Deny(flow, actions);
            }
        }

        while (_decidedOrder.TryPeek(out var oldest) && (now - oldest.At >= options.DecidedMemory || _decidedOrder.Count > options.MaxDecided))
        {
            _decidedOrder.Dequeue();
            if (_decided.TryGetValue(oldest.Key, out var entry) && entry.At == oldest.At)
            {
                _decided.Remove(oldest.Key);
            }
        }
    }

    /// <summary>Drops everything held (the guard is stopping; the kernel would drop it anyway when the socket closes).</summary>
    public void DropAll(IQueueActions actions)
    {
        foreach (var flow in _flows.Values.ToList())
        {
            DropHeld(flow, actions);
            Forget(flow);
        }
    }

    private void OnUntracked(uint packetId, in TcpSegment segment, DnsClient client, IQueueActions actions)
    {
        var key = segment.Key;
        if (segment.Flags == TcpFlags.Syn)
        {
            if (!segment.Payload.IsEmpty)
            {
                // Data on a SYN (TCP Fast Open): the connection is not confirmed yet, so it could not be marked. The
                // client retransmits a plain SYN and sends the data after the handshake.
                Drop(packetId, actions);
                return;
            }

            if (!MayConnect(client, key))
            {
                statistics.CountRefusedDestination();
                LogRefusedDestination(logger, client.SandboxId, key.DestinationAddress, key.DestinationPort);
                audit.Denied(new EgressDenial(client.SandboxId, time.GetUtcNow(), key.DestinationAddress.ToString(), key.DestinationPort, Protocol, Reason));
                Drop(packetId, actions);
                return;
            }

            var count = _flowsPerSandbox.GetValueOrDefault(client.SandboxId);
            if (count >= options.MaxFlowsPerSandbox || _flows.Count >= options.MaxFlows)
            {
                // Not yet confirmed by conntrack, so it cannot be marked: dropped, the guest's retries meet the same bound.
                statistics.CountRejectedOverLimit();
                Drop(packetId, actions);
                return;
            }

            _flows[key] = new QueueFlow(key, client, segment.Sequence, options.MaxFirstMessageBytes, time.GetUtcNow());
            _flowsPerSandbox[client.SandboxId] = count + 1;
            statistics.CountFlow();
            Accept(packetId, actions);
            return;
        }

        if (segment.Payload.IsEmpty && !segment.Has(TcpFlags.Fin) && !segment.Has(TcpFlags.Syn))
        {
            // An acknowledgement or reset for a connection the guard does not know: it carries nothing.
            Accept(packetId, actions);
            return;
        }

        // Payload (or a FIN, or a SYN with other flags) without a handshake the guard saw: there is no first byte to
        // start from, so nothing can be checked. Refused, and the connection marked so its next packet gets a reset.
        statistics.CountUnknownFlow();
        Drop(packetId, actions);
        if (!segment.Has(TcpFlags.Syn))
        {
            actions.Mark(key, QueueGuardMarks.Denied);
        }

        LogUnreadable(logger, client.SandboxId, key.DestinationAddress, key.DestinationPort, "payload on a connection whose handshake the guard did not see");
        audit.Denied(new EgressDenial(client.SandboxId, time.GetUtcNow(), key.DestinationAddress.ToString(), key.DestinationPort, Protocol, Reason));
    }

    private void OnRepeatedHandshake(uint packetId, in TcpSegment segment, QueueFlow flow, IQueueActions actions)
    {
        if (segment.Flags != TcpFlags.Syn || !segment.Payload.IsEmpty)
        {
            Drop(packetId, actions);
            return;
        }

        if (flow.Held.Count == 0 && flow.FirstDataAt is null)
        {
            if (segment.Sequence != flow.InitialSequence)
            {
                flow.Restart(segment.Sequence, options.MaxFirstMessageBytes);
            }

            Accept(packetId, actions);
            return;
        }

        // A new handshake on a connection that already sent data cannot be a retransmit.
        Drop(packetId, actions);
    }

    private void Hold(uint packetId, in TcpSegment segment, QueueFlow flow, IQueueActions actions)
    {
        var offset = unchecked(segment.Sequence - flow.StreamStart);
        if (offset > int.MaxValue)
        {
            // Before the stream's first byte: no honest sender does that.
            Drop(packetId, actions);
            Unreadable(flow, "bytes before the stream's start", actions);
            return;
        }

        flow.FirstDataAt ??= time.GetUtcNow();
        var end = (long)offset + segment.Payload.Length;
        if (end > options.MaxHeldBytesPerFlow)
        {
            Drop(packetId, actions);
            Unreadable(flow, "a first message longer than the guard reads", actions);
            return;
        }

        if (segment.Has(TcpFlags.Fin) && flow.FinOffset is { } earlier && earlier != end)
        {
            Drop(packetId, actions);
            Unreadable(flow, "two different ends of the stream", actions);
            return;
        }

        // Retransmits are compared before any bound is applied: a plain one costs nothing (the earlier copy is held).
        switch (flow.Stream.Compare(offset, segment.Payload))
        {
            case ReassemblyResult.Conflict:
                Drop(packetId, actions);
                Unreadable(flow, "retransmitted bytes that differ from the first copy", actions);
                return;
            case ReassemblyResult.Duplicate when !segment.Has(TcpFlags.Fin):
                Drop(packetId, actions);
                return;
        }

        if (flow.Held.Count >= options.MaxHeldPacketsPerFlow || flow.HeldBytes + segment.Payload.Length > options.MaxHeldBytesPerFlow)
        {
            Drop(packetId, actions);
            Unreadable(flow, "a first message longer than the guard reads", actions);
            return;
        }

        if (_heldPackets >= options.MaxHeldPackets || _heldBytes + segment.Payload.Length > options.MaxHeldBytes)
        {
            // The total is shared by every sandbox: the connection asking for more is the one refused.
            statistics.CountRejectedOverLimit();
            Drop(packetId, actions);
            Deny(flow, actions);
            return;
        }

        if (segment.Has(TcpFlags.Fin))
        {
            flow.FinOffset = end;
        }

        flow.Stream.Add(offset, segment.Payload);
        flow.Held.Add(new HeldPacket(packetId, offset, flow.NextArrival(), segment.Payload.Length));
        flow.HeldBytes += segment.Payload.Length;
        _heldPackets++;
        _heldBytes += segment.Payload.Length;
        statistics.CountHeld();
        TryDecide(flow, actions);
    }

    /// <summary>Decides once the bytes so far say enough; the same rules as the proxy guard's first message.</summary>
    private void TryDecide(QueueFlow flow, IQueueActions actions)
    {
        var contiguous = flow.Stream.Contiguous;
        var closed = flow.FinOffset is { } fin && contiguous >= fin;
        if (contiguous == 0)
        {
            if (closed)
            {
                // The guest closed its half without a word: nothing to decide, the server may still talk.
                statistics.CountAllowedUnnamed();
                Allow(flow, actions);
            }

            return;
        }

        var message = FirstMessageClassifier.Classify(flow.Stream.Prefix, options.MaxFirstMessageBytes);
        if (message.Kind == FirstMessageKind.NeedMore)
        {
            if (closed)
            {
                Unreadable(flow, "a first message the guest closed before it was complete", actions);
            }
            else if (contiguous >= options.MaxFirstMessageBytes)
            {
                Unreadable(flow, "a first message longer than the guard reads", actions);
            }

            return;
        }

        if (message.Kind == FirstMessageKind.Malformed)
        {
            Unreadable(flow, message.Problem ?? "a malformed first message", actions);
            return;
        }

        if (message.Names.Count == 0)
        {
            // Another protocol, or TLS without a server name: the address was allowed for this port by DNS.
            statistics.CountAllowedUnnamed();
            Allow(flow, actions);
            return;
        }

        var port = flow.Key.DestinationPort;
        foreach (var name in message.Names)
        {
            if (!flow.Client.AllowAll && !flow.Client.Policy.Evaluate(name, port).IsAllowed)
            {
                statistics.CountDenied();
                var shown = UntrustedText.Escape(name, HostName.MaxLength);
                LogDenied(logger, flow.Client.SandboxId, shown, port, flow.Key.DestinationAddress);
                audit.Denied(new EgressDenial(flow.Client.SandboxId, time.GetUtcNow(), shown, port, Protocol, Reason));
                Deny(flow, actions);
                return;
            }
        }

        statistics.CountAllowedNamed();
        Allow(flow, actions);
    }

    // A first message that claims TLS or HTTP but cannot be checked: refused like a denied name, recorded by address.
    private void Unreadable(QueueFlow flow, string problem, IQueueActions actions)
    {
        statistics.CountRefusedUnreadable();
        LogUnreadable(logger, flow.Client.SandboxId, flow.Key.DestinationAddress, flow.Key.DestinationPort, problem);
        audit.Denied(new EgressDenial(flow.Client.SandboxId, time.GetUtcNow(), flow.Key.DestinationAddress.ToString(), flow.Key.DestinationPort, Protocol, Reason));
        Deny(flow, actions);
    }

    private void Allow(QueueFlow flow, IQueueActions actions)
    {
        // Marked first, released after: once the held bytes reach the server, later packets must bypass the queue.
        if (!actions.Mark(flow.Key, QueueGuardMarks.Verified))
        {
            statistics.CountMarkFailure();
            LogMarkFailed(logger, flow.Client.SandboxId, flow.Key.DestinationAddress, flow.Key.DestinationPort);
            DropHeld(flow, actions);
            Forget(flow);
            Remember(flow.Key, allowed: false);
            return;
        }

        var ordered = flow.Held.OrderBy(p => p.Offset).ThenBy(p => p.Arrival).ToList();
        foreach (var packet in ordered)
        {
            actions.Accept(packet.Id);
        }

        statistics.CountReleased(ordered.Count);
        Forget(flow);
        Remember(flow.Key, allowed: true);
    }

    private void Deny(QueueFlow flow, IQueueActions actions)
    {
        // The mark turns the guest's next packet (its retransmit of what was dropped) into a reset.
        if (!actions.Mark(flow.Key, QueueGuardMarks.Denied))
        {
            statistics.CountMarkFailure();
        }

        DropHeld(flow, actions);
        Forget(flow);
        Remember(flow.Key, allowed: false);
    }

    private void DropHeld(QueueFlow flow, IQueueActions actions)
    {
        foreach (var packet in flow.Held)
        {
            actions.Drop(packet.Id);
        }

        statistics.CountDropped(flow.Held.Count);
    }

    private void Forget(QueueFlow flow)
    {
        if (!_flows.Remove(flow.Key))
        {
            return;
        }

        _heldPackets -= flow.Held.Count;
        _heldBytes -= flow.HeldBytes;
        flow.Held.Clear();
        flow.HeldBytes = 0;
        var left = _flowsPerSandbox[flow.Client.SandboxId] - 1;
        if (left == 0)
        {
            _flowsPerSandbox.Remove(flow.Client.SandboxId);
        }
        else
        {
            _flowsPerSandbox[flow.Client.SandboxId] = left;
        }
    }

    private void Remember(FlowKey key, bool allowed)
    {
        var now = time.GetUtcNow();
        _decided[key] = (allowed, now);
        _decidedOrder.Enqueue((key, now));
        while (_decidedOrder.Count > options.MaxDecided)
        {
            var oldest = _decidedOrder.Dequeue();
            if (_decided.TryGetValue(oldest.Key, out var entry) && entry.At == oldest.At)
            {
                _decided.Remove(oldest.Key);
            }
        }
    }

    private void Accept(uint packetId, IQueueActions actions)
    {
        statistics.CountAcceptedAtOnce();
        actions.Accept(packetId);
    }

    private void Drop(uint packetId, IQueueActions actions)
    {
        statistics.CountDropped();
        actions.Drop(packetId);
    }

    // The same destinations the proxy guard refuses to connect to, whatever the firewall's set said at the SYN.
    private bool MayConnect(DnsClient client, FlowKey key)
    {
        var address = key.DestinationAddress;
        if (address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)
            || address.IsIPv4MappedToIPv6
            || options.Blocked.Any(n => n.Contains(address)))
        {
            return false;
        }

        return client.AllowAll || destinations.IsLearned(client.SandboxId, address, key.DestinationPort);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "queue guard: sandbox {Sandbox} asked {Address}:{Port} for {Name}: host_not_allowed")]
    private static partial void LogDenied(ILogger logger, string sandbox, string name, int port, IPAddress address);

    [LoggerMessage(Level = LogLevel.Debug, Message = "queue guard: sandbox {Sandbox} sent {Address}:{Port} {Problem}: refused")]
    private static partial void LogUnreadable(ILogger logger, string sandbox, IPAddress address, int port, string problem);

    [LoggerMessage(Level = LogLevel.Debug, Message = "queue guard: sandbox {Sandbox} may not reach {Address}:{Port} (not learned, or blocked)")]
    private static partial void LogRefusedDestination(ILogger logger, string sandbox, IPAddress address, int port);

    [LoggerMessage(Level = LogLevel.Warning, Message = "queue guard: the connection of sandbox {Sandbox} to {Address}:{Port} was allowed but could not be marked in conntrack: refused")]
    private static partial void LogMarkFailed(ILogger logger, string sandbox, IPAddress address, int port);
}
