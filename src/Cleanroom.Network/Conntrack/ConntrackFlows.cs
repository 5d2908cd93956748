using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Cleanroom.Network.Guard.Queue;
using Cleanroom.Network.Nflog;

namespace Cleanroom.Network.Conntrack;

/// <summary>
/// Forgets the connections the kernel tracks (conntrack entries) whose original source is one address, over ctnetlink:
/// what <c>conntrack -D -s ADDRESS</c> does, without starting the tool. The tool took about 10 ms per run here, and
/// every sandbox create ran it once per address family, the IPv6 run last on the create's critical path. The table of
/// the address's family is dumped, the entries from the address are collected, then each is deleted by its original
/// tuple, zone and id, so only that entry can go (one that ended meanwhile is not an error).
/// </summary>
/// <remarks>
/// Bounded, since a guest can fill the table with its own connections (only ones its policy let through are kept, but
/// an established TCP entry lives for days): a dump has a deadline and collects at most <see cref="MaxPerPass"/>
/// entries, and full passes follow each other for at most <see cref="Budget"/>. Entries left after that make
/// <see cref="ConntrackFlowsRemainException"/>, so the caller can keep the address from the next sandbox rather than
/// hand it connections it did not open. The dump is filtered here rather than by the kernel, which filters a dump by
/// source only from Linux 5.8 on.
/// </remarks>
internal static class ConntrackFlows
{
    internal const int MaxPerPass = 4096;

    /// <summary>How long passes may follow each other; a full table of a few hundred thousand entries takes a few seconds.</summary>
    internal static readonly TimeSpan Budget = TimeSpan.FromSeconds(10);

    private const byte SubsystemConntrack = 1;
    private const ushort MessageNew = SubsystemConntrack << 8;              // IPCTNL_MSG_CT_NEW: what a dump answers with
    private const ushort MessageGet = (SubsystemConntrack << 8) | 1;        // IPCTNL_MSG_CT_GET
    private const ushort MessageDelete = (SubsystemConntrack << 8) | 2;     // IPCTNL_MSG_CT_DELETE
    private const ushort FlagDump = 0x300;                                  // NLM_F_ROOT | NLM_F_MATCH

    // enum ctattr_type, ctattr_tuple, ctattr_ip
    private const ushort AttributeTupleOriginal = 1;
    private const ushort AttributeId = 12;
    private const ushort AttributeZone = 18;
    private const ushort TupleIp = 1;
    private const ushort IpV4Source = 1;
    private const ushort IpV6Source = 3;

    private const int MaxAttributes = 64;
    private const int ReceiveBufferBytes = 64 * 1024;
    private static int _sequence;

    /// <summary>
    /// Deletes every entry whose original source is <paramref name="address"/>, in the network namespace of the calling
    /// thread; returns how many went. Throws <see cref="NflogException"/> when no ctnetlink socket can be opened at all,
    /// and <see cref="ConntrackFlowsRemainException"/> when entries may be left: still some after <see cref="Budget"/>,
    /// or a dump or delete that the kernel refused or did not finish (<paramref name="timeout"/> per delete; a dump may
    /// take what is left of the budget, at least <paramref name="timeout"/>).
    /// </summary>
    public static int ForgetSource(IPAddress address, TimeSpan timeout) => ForgetSource(address, timeout, MaxPerPass, Budget);

    /// <summary><see cref="ForgetSource(IPAddress, TimeSpan)"/> with other bounds (for tests).</summary>
    internal static int ForgetSource(IPAddress address, TimeSpan timeout, int maxPerPass, TimeSpan budget)
    {
        ArgumentNullException.ThrowIfNull(address);
        var family = address.AddressFamily == AddressFamily.InterNetworkV6 ? NflogProtocol.FamilyIPv6 : NflogProtocol.FamilyIPv4;
        var source = address.GetAddressBytes();
        using var socket = NetlinkSocket.Open(LinuxNative.NetlinkNetfilter);
        var forgotten = 0;
        var started = Stopwatch.GetTimestamp();
        try
        {
            while (true)
            {
                // A guest that filled the table makes a long dump: it may use the budget, not only one request's time.
                var left = budget - Stopwatch.GetElapsedTime(started);
                var entries = Collect(socket, family, source, maxPerPass, left > timeout ? left : timeout);
                foreach (var entry in entries)
                {
                    var sequence = Next();
                    var errno = NetlinkAck.Exchange(socket, DeleteRequest(family, entry, sequence), sequence, timeout);
                    if (errno == 0)
                    {
                        forgotten++;
                    }
                    else if (errno != LinuxNative.ENOENT)
                    {
                        throw new NflogException($"The kernel refused to delete a tracked connection: {LinuxNative.Describe(errno)}.", errno);
                    }
                }

                if (entries.Count < maxPerPass)
                {
                    return forgotten;
                }

                if (Stopwatch.GetElapsedTime(started) >= budget)
                {
                    throw new ConntrackFlowsRemainException($"{address} still has tracked connections after {forgotten} were deleted in {budget.TotalSeconds:0.#} s.");
                }
            }
        }
        catch (NflogException ex)
        {
            // Once the kernel can be asked, not knowing is treated as entries left: the address must not move on.
            throw new ConntrackFlowsRemainException($"{address} may still have tracked connections ({forgotten} deleted): {ex.Message}", ex);
        }
    }

    /// <summary>The dump request for one family's table.</summary>
    private static byte[] DumpRequest(byte family, uint sequence) =>
        new NetlinkRequestBuilder(MessageGet, (ushort)(NetlinkFormat.FlagRequest | FlagDump), sequence)
            .Fixed(NfqueueProtocol.GenericHeader(family, 0))
            .Build();

    /// <summary>
    /// The entry in a dump message's payload (after the netlink header) if its original source is
    /// <paramref name="source"/>, else null. Null too for a message without an original tuple.
    /// </summary>
    private static TrackedEntry? Match(ReadOnlySpan<byte> payload, ReadOnlySpan<byte> source)
    {
        if (payload.Length < NflogProtocol.GenericHeaderLength)
        {
            return null;
        }

        byte[]? tuple = null;
        byte[]? zone = null;
        byte[]? id = null;
        var attributes = new NetlinkAttributeReader(payload[NflogProtocol.GenericHeaderLength..], MaxAttributes);
        while (attributes.TryRead(out var type, out var value))
        {
            switch (type)
            {
                case AttributeTupleOriginal when SourceOf(value).SequenceEqual(source):
                    tuple = value.ToArray();
                    break;
                case AttributeZone:
                    zone = value.ToArray();
                    break;
                case AttributeId:
                    id = value.ToArray();
                    break;
            }
        }

        return tuple is null || attributes.Malformed ? null : new TrackedEntry(tuple, zone, id);
    }

    /// <summary>One pass: the dump of <paramref name="family"/>'s table, to its end within <paramref name="timeout"/>.</summary>
    private static List<TrackedEntry> Collect(NetlinkSocket socket, byte family, byte[] source, int maxPerPass, TimeSpan timeout)
    {
        var sequence = Next();
        socket.Send(DumpRequest(family, sequence));
        var entries = new List<TrackedEntry>();
        var buffer = new byte[ReceiveBufferBytes];
        var deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (true)
        {
            if (!socket.WaitReadableUntil(deadline))
            {
                throw new NflogException($"The kernel did not finish listing tracked connections within {timeout.TotalSeconds:0.#} s.");
            }

            var received = socket.TryReceive(buffer);
            if (received.Status == ReceiveStatus.KernelDropped)
            {
                throw new NflogException("The list of tracked connections overflowed the socket's buffer.");
            }

            if (received.Status != ReceiveStatus.Datagram || received.SenderPortId != 0)
            {
                continue;
            }

            if (received.Length > buffer.Length)
            {
                throw new NflogException($"A part of the list of tracked connections was larger than {buffer.Length} bytes.");
            }

            var messages = new NetlinkMessageReader(buffer.AsSpan(0, received.Length));
            while (messages.TryRead(out var message))
            {
                if (message.Sequence != sequence)
                {
                    continue;
                }

                switch (message.Type)
                {
                    case NetlinkFormat.TypeDone:
                        return entries;
                    case NetlinkFormat.TypeError when message.Payload.Length >= 4 && MemoryMarshal.Read<int>(message.Payload) is var error && error != 0:
                        throw new NflogException($"The kernel refused to list tracked connections: {LinuxNative.Describe(-error)}.", -error);
                    case MessageNew when entries.Count < maxPerPass && Match(message.Payload, source) is { } entry:
                        entries.Add(entry);
                        break;
                }
            }

            if (messages.Malformed)
            {
                throw new NflogException("The kernel's list of tracked connections could not be read (a malformed message).");
            }
        }
    }

    private static byte[] DeleteRequest(byte family, TrackedEntry entry, uint sequence)
    {
        var request = new NetlinkRequestBuilder(MessageDelete, (ushort)(NetlinkFormat.FlagRequest | NetlinkFormat.FlagAck), sequence)
            .Fixed(NfqueueProtocol.GenericHeader(family, 0))
            .Fixed(NetlinkAttributes.Encode((ushort)(AttributeTupleOriginal | NetlinkAttributes.Nested), entry.OriginalTuple));
        if (entry.Zone is { } zone)
        {
            request.Attribute(AttributeZone, zone);
        }

        if (entry.Id is { } id)
        {
            request.Attribute(AttributeId, id);
        }

        return request.Build();
    }

    /// <summary>The source address in an original tuple's value (empty when it has none).</summary>
    private static ReadOnlySpan<byte> SourceOf(ReadOnlySpan<byte> tuple)
    {
        var parts = new NetlinkAttributeReader(tuple, MaxAttributes);
        while (parts.TryRead(out var type, out var value))
        {
            if (type != TupleIp)
            {
                continue;
            }

            var addresses = new NetlinkAttributeReader(value, MaxAttributes);
            while (addresses.TryRead(out var addressType, out var address))
            {
                if (addressType is IpV4Source or IpV6Source)
                {
                    return address;
                }
            }
        }

        return default;
    }

    private static uint Next() => (uint)Interlocked.Increment(ref _sequence);

    /// <summary>What identifies one tracked connection for its deletion: its original tuple's value, zone and id.</summary>
    private sealed record TrackedEntry(byte[] OriginalTuple, byte[]? Zone, byte[]? Id);
}
