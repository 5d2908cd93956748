using System.Buffers.Binary;
using System.Net;
using Cleanroom.Network.Guard.Queue;
using Cleanroom.Network.Nflog;
using Cleanroom.Network.Tests.Nflog.Support;

namespace Cleanroom.Network.Tests.Guard.Queue;

/// <summary>The queue guard's readers on hostile bytes: every length checked, nothing read outside the span, never a throw.</summary>
public class QueueParserTests
{
    private const ushort Queue = 7352;

    [Fact]
    public void A_tcp_segment_is_read_from_IPv4_and_IPv6()
    {
        var tcp = Tcp(40000, 443, 0x01020304, 0x18, [1, 2, 3]);
        Assert.Equal(SegmentFailure.None, TcpSegmentParser.TryParse(IpPackets.V4("10.213.0.2", "192.0.2.1", IpPackets.Tcp, tcp), NflogProtocol.FamilyIPv4, out var segment));
        Assert.Equal((IPAddress.Parse("10.213.0.2"), IPAddress.Parse("192.0.2.1"), (ushort)40000, (ushort)443), (segment.Key.SourceAddress, segment.Key.DestinationAddress, segment.Key.SourcePort, segment.Key.DestinationPort));
        Assert.Equal((0x01020304u, TcpFlags.Ack | TcpFlags.Psh), (segment.Sequence, segment.Flags));
        Assert.Equal([1, 2, 3], segment.Payload.ToArray());

        var v6 = IpPackets.V6("fd63:6c65:616e::2", "2001:db8::1", 0, [.. IpPackets.Options8(IpPackets.Tcp), .. tcp]);
        Assert.Equal(SegmentFailure.None, TcpSegmentParser.TryParse(v6, NflogProtocol.FamilyIPv6, out segment));
        Assert.True(segment.Key.V6);
        Assert.Equal(IPAddress.Parse("2001:db8::1"), segment.Key.DestinationAddress);
        Assert.Equal([1, 2, 3], segment.Payload.ToArray());
    }

    [Fact]
    public void Hostile_ip_and_tcp_headers_are_failures()
    {
        var tcp = Tcp(40000, 443, 1, 0x10, [9, 9]);
        var v4 = IpPackets.V4("10.0.0.2", "192.0.2.1", IpPackets.Tcp, tcp);
        Assert.Equal(SegmentFailure.NotIp, Parse4([]));
        Assert.Equal(SegmentFailure.BadIpHeader, Parse4(v4[..19]));
        Assert.Equal(SegmentFailure.NotIp, TcpSegmentParser.TryParse(v4, NflogProtocol.FamilyIPv6, out _)); // family and version disagree

        var shortIhl = (byte[])v4.Clone();
        shortIhl[0] = 0x44;
        Assert.Equal(SegmentFailure.BadIpHeader, Parse4(shortIhl));
        var longTotal = (byte[])v4.Clone();
        BinaryPrimitives.WriteUInt16BigEndian(longTotal.AsSpan(2), (ushort)(v4.Length + 1));
        Assert.Equal(SegmentFailure.BadIpHeader, Parse4(longTotal));
        var shortTotal = (byte[])v4.Clone();
        BinaryPrimitives.WriteUInt16BigEndian(shortTotal.AsSpan(2), 19);
        Assert.Equal(SegmentFailure.BadIpHeader, Parse4(shortTotal));
        Assert.Equal(SegmentFailure.Fragment, Parse4(IpPackets.V4("10.0.0.2", "192.0.2.1", IpPackets.Tcp, tcp, fragmentField: 0x2000)));
        Assert.Equal(SegmentFailure.Fragment, Parse4(IpPackets.V4("10.0.0.2", "192.0.2.1", IpPackets.Tcp, tcp, fragmentField: 0x0001)));
        Assert.Equal(SegmentFailure.NotTcp, Parse4(IpPackets.V4("10.0.0.2", "192.0.2.1", IpPackets.Udp, tcp)));

        // A total length shorter than the copy: the bytes past it (link padding) are not the guest's stream.
        var padded = IpPackets.V4("10.0.0.2", "192.0.2.1", IpPackets.Tcp, [.. tcp, 7, 7]);
        BinaryPrimitives.WriteUInt16BigEndian(padded.AsSpan(2), (ushort)(padded.Length - 2));
        Assert.Equal(SegmentFailure.None, TcpSegmentParser.TryParse(padded, NflogProtocol.FamilyIPv4, out var segment));
        Assert.Equal([9, 9], segment.Payload.ToArray());

        foreach (var offsetWords in new[] { 0, 4, 15 })
        {
            var bad = (byte[])tcp.Clone();
            bad[12] = (byte)(offsetWords << 4);
            Assert.Equal(SegmentFailure.BadTcpHeader, Parse4(IpPackets.V4("10.0.0.2", "192.0.2.1", IpPackets.Tcp, bad)));
        }

        Assert.Equal(SegmentFailure.BadTcpHeader, Parse4(IpPackets.V4("10.0.0.2", "192.0.2.1", IpPackets.Tcp, tcp[..19])));
        Assert.Equal(SegmentFailure.BadTcpHeader, Parse4(IpPackets.V4("10.0.0.2", "192.0.2.1", IpPackets.Tcp, Tcp(0, 443, 1, 0x02, []))));
    }

    [Fact]
    public void Hostile_ipv6_headers_are_failures()
    {
        var tcp = Tcp(40000, 443, 1, 0x10, []);
        Assert.Equal(SegmentFailure.BadIpHeader, Parse6([0x60, .. new byte[38]]));
        var lying = IpPackets.V6("fd00::2", "2001:db8::1", IpPackets.Tcp, tcp);
        BinaryPrimitives.WriteUInt16BigEndian(lying.AsSpan(4), (ushort)(tcp.Length + 1));
        Assert.Equal(SegmentFailure.BadIpHeader, Parse6(lying));
        BinaryPrimitives.WriteUInt16BigEndian(lying.AsSpan(4), 0); // a jumbogram
        Assert.Equal(SegmentFailure.BadIpHeader, Parse6(lying));
        Assert.Equal(SegmentFailure.Fragment, Parse6(IpPackets.V6("fd00::2", "2001:db8::1", 44, [.. IpPackets.Fragment(IpPackets.Tcp, 0), .. tcp])));
        Assert.Equal(SegmentFailure.NotTcp, Parse6(IpPackets.V6("fd00::2", "2001:db8::1", IpPackets.Udp, tcp)));

        // Nine extension headers, or one that runs past the packet.
        var chain = Enumerable.Range(0, 9).SelectMany(_ => IpPackets.Options8(60)).ToArray();
        Assert.Equal(SegmentFailure.BadIpHeader, Parse6(IpPackets.V6("fd00::2", "2001:db8::1", 60, [.. chain, .. tcp])));
        Assert.Equal(SegmentFailure.BadIpHeader, Parse6(IpPackets.V6("fd00::2", "2001:db8::1", 0, [IpPackets.Tcp, 200, 0, 0, 0, 0, 0, 0])));
    }

    [Fact]
    public void A_packet_message_needs_its_header_and_a_whole_copy()
    {
        var packet = IpPackets.V4("10.0.0.2", "192.0.2.1", IpPackets.Tcp, Tcp(1, 2, 3, 0x10, []));
        Assert.True(QueuedPacketParser.TryParse(Body(2, Queue, Header(42), Attribute(10, packet)), Queue, out var parsed, out var usable));
        Assert.True(usable);
        Assert.Equal((42u, false, packet.Length), (parsed.Id, parsed.Truncated, parsed.Payload.Length));

        // Cut by the copy range: the id is known, the packet must be dropped.
        Assert.True(QueuedPacketParser.TryParse(Body(2, Queue, Header(43), Attribute(13, [0, 0, 0x10, 0]), Attribute(10, packet)), Queue, out parsed, out usable));
        Assert.True(usable && parsed.Truncated);

        // A duplicate attribute, no payload, another family: usable false.
        Assert.True(QueuedPacketParser.TryParse(Body(2, Queue, Header(44), Attribute(10, packet), Attribute(10, packet)), Queue, out _, out usable));
        Assert.False(usable);
        Assert.True(QueuedPacketParser.TryParse(Body(2, Queue, Header(45)), Queue, out _, out usable));
        Assert.False(usable);
        Assert.True(QueuedPacketParser.TryParse(Body(7, Queue, Header(46), Attribute(10, packet)), Queue, out _, out usable));
        Assert.False(usable);

        // No header, another queue, a lying attribute length before the header: nothing to give a verdict to.
        Assert.False(QueuedPacketParser.TryParse(Body(2, Queue, Attribute(10, packet)), Queue, out _, out _));
        Assert.False(QueuedPacketParser.TryParse(Body(2, 9, Header(47)), Queue, out _, out _));
        Assert.False(QueuedPacketParser.TryParse([2, 0, 0x1C, 0xB8, 200, 0, 1, 0], Queue, out _, out _));
        Assert.False(QueuedPacketParser.TryParse([2, 0], Queue, out _, out _));
    }

    [Fact]
    public void Reassembly_puts_segments_together_and_catches_conflicting_copies()
    {
        var stream = new StreamReassembly(16);
        Assert.Equal(ReassemblyResult.New, stream.Add(4, "efgh"u8));
        Assert.Equal(0, stream.Contiguous);
        Assert.Equal(ReassemblyResult.Duplicate, stream.Add(5, "fg"u8));
        Assert.Equal(ReassemblyResult.Conflict, stream.Compare(3, "xeXgh"u8));
        Assert.Equal(ReassemblyResult.New, stream.Add(0, "abcdef"u8));
        Assert.Equal("abcdefgh"u8.ToArray(), stream.Prefix.ToArray());
        Assert.Equal(1, stream.Ranges);

        // Past the capacity nothing is stored or compared; what reaches into it is.
        Assert.Equal(ReassemblyResult.New, stream.Add(20, "zz"u8));
        Assert.Equal(ReassemblyResult.New, stream.Add(8, "ijklmnopqrs"u8));
        Assert.Equal(16, stream.Contiguous);
        Assert.Equal(ReassemblyResult.Conflict, stream.Add(15, "X"u8));
    }

    [Fact]
    public void The_conntrack_mark_request_names_the_original_tuple_and_only_the_guards_bits()
    {
        var key = new FlowKey(false, FlowKey.FromBytes([10, 213, 0, 2]), FlowKey.FromBytes([192, 0, 2, 1]), 40000, 443);
        var request = ConntrackMarker.Request(key, QueueGuardMarks.Verified, 5);
        Assert.Equal(request.Length, BinaryPrimitives.ReadInt32LittleEndian(request));
        Assert.Equal(0x100, BinaryPrimitives.ReadUInt16LittleEndian(request.AsSpan(4))); // IPCTNL_MSG_CT_NEW
        Assert.Equal(0x5, BinaryPrimitives.ReadUInt16LittleEndian(request.AsSpan(6)));   // request, ack; no create
        Assert.Equal(2, request[16]);                                                     // AF_INET
        var tail = request.AsSpan(request.Length - 16);
        Assert.Equal([8, 0, 8, 0, 2, 0, 0, 0, 8, 0, 21, 0, 2, 0, 0, 0], tail.ToArray());   // CTA_MARK, CTA_MARK_MASK
        Assert.True(request.AsSpan().IndexOf((ReadOnlySpan<byte>)[10, 213, 0, 2]) > 0);
    }

    private static SegmentFailure Parse4(byte[] packet) => TcpSegmentParser.TryParse(packet, NflogProtocol.FamilyIPv4, out _);

    private static SegmentFailure Parse6(byte[] packet) => TcpSegmentParser.TryParse(packet, NflogProtocol.FamilyIPv6, out _);

    private static byte[] Tcp(int sourcePort, int destinationPort, uint sequence, byte flags, byte[] payload)
    {
        var header = new byte[20 + payload.Length];
        BinaryPrimitives.WriteUInt16BigEndian(header, (ushort)sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(2), (ushort)destinationPort);
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(4), sequence);
        header[12] = 5 << 4;
        header[13] = flags;
        payload.CopyTo(header, 20);
        return header;
    }

    /// <summary>The NFQA_PACKET_HDR attribute.</summary>
    private static byte[] Header(uint id)
    {
        var header = new byte[7];
        BinaryPrimitives.WriteUInt32BigEndian(header, id);
        return Attribute(1, header);
    }

    private static byte[] Attribute(ushort type, byte[] value) => NetlinkAttributes.Encode(type, value);

    private static byte[] Body(byte family, ushort queue, params byte[][] attributes)
    {
        var header = new byte[4];
        header[0] = family;
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(2), queue);
        return [.. header, .. attributes.SelectMany(a => a)];
    }
}
