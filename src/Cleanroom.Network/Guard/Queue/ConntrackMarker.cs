using Cleanroom.Network.Nflog;

namespace Cleanroom.Network.Guard.Queue;

/// <summary>
/// Sets bits in one connection's conntrack mark over ctnetlink (IPCTNL_MSG_CT_NEW without NLM_F_CREATE: update an
/// existing entry, found by its original tuple). CTA_MARK_MASK limits the change to the guard's bits, so marks others
/// set are kept. Used instead of a mark carried by the verdict (NFQA_CT), which needs the kernel's conntrack glue for
/// nfnetlink_queue (CONFIG_NETFILTER_NETLINK_GLUE_CT), which not every kernel has; ctnetlink is what the
/// <c>conntrack</c> tool uses, so a host that can run Cleanroom has it.
/// </summary>
internal sealed class ConntrackMarker : IDisposable
{
    private const byte SubsystemConntrack = 1;
    private const ushort MessageNew = (SubsystemConntrack << 8) | 0;

    // enum ctattr_type, ctattr_tuple, ctattr_ip, ctattr_l4
    private const ushort AttributeTupleOriginal = 1;
    private const ushort AttributeMark = 8;
    private const ushort AttributeMarkMask = 21;
    private const ushort TupleIp = 1;
    private const ushort TupleProto = 2;
    private const ushort IpV4Source = 1;
    private const ushort IpV4Destination = 2;
    private const ushort IpV6Source = 3;
    private const ushort IpV6Destination = 4;
    private const ushort ProtoNumber = 1;
    private const ushort ProtoSourcePort = 2;
    private const ushort ProtoDestinationPort = 3;

    private static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(2);
    private readonly NetlinkSocket _socket;
    private uint _sequence;

    private ConntrackMarker(NetlinkSocket socket)
    {
        _socket = socket;
    }

    /// <summary>Opens the ctnetlink socket (in <paramref name="networkNamespacePath"/> when given).</summary>
    public static ConntrackMarker Open(string? networkNamespacePath) =>
        new(networkNamespacePath is null
            ? NetlinkSocket.Open(LinuxNative.NetlinkNetfilter)
            : NetworkNamespace.Run(networkNamespacePath, () => NetlinkSocket.Open(LinuxNative.NetlinkNetfilter)));

    /// <summary>Sets <paramref name="bits"/>; returns the kernel's errno (0 for success, ENOENT when no such connection).</summary>
    public int Mark(FlowKey key, uint bits)
    {
        var sequence = ++_sequence;
        return NetlinkAck.Exchange(_socket, Request(key, bits, sequence), sequence, AnswerTimeout);
    }

    /// <summary>The update request (for tests).</summary>
    public static byte[] Request(FlowKey key, uint bits, uint sequence)
    {
        var (source, destination) = key.V6 ? (IpV6Source, IpV6Destination) : (IpV4Source, IpV4Destination);
        var tuple = NetlinkAttributes.Nest(
            AttributeTupleOriginal,
            NetlinkAttributes.Nest(TupleIp, NetlinkAttributes.Encode(source, key.AddressBytes(key.Source)), NetlinkAttributes.Encode(destination, key.AddressBytes(key.Destination))),
            NetlinkAttributes.Nest(TupleProto, NetlinkAttributes.Encode(ProtoNumber, [(byte)IpProtocols.Tcp]), NetlinkAttributes.BigEndian16(ProtoSourcePort, key.SourcePort), NetlinkAttributes.BigEndian16(ProtoDestinationPort, key.DestinationPort)));

        // newmark = (mark & ~mask) ^ value: with mask = value = bits, exactly those bits are set, the rest kept.
        return new NetlinkRequestBuilder(MessageNew, NetlinkFormat.FlagRequest | NetlinkFormat.FlagAck, sequence)
            .Fixed(NfqueueProtocol.GenericHeader(key.V6 ? NflogProtocol.FamilyIPv6 : NflogProtocol.FamilyIPv4, 0))
            .Fixed(tuple)
            .AttributeBigEndian(AttributeMark, bits)
            .AttributeBigEndian(AttributeMarkMask, bits)
            .Build();
    }

    public void Dispose() => _socket.Dispose();
}
