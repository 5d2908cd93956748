using System.Net;
using Cleanroom.Network.Nflog;
using Cleanroom.Network.Tests.Nflog.Support;
using static Cleanroom.Network.Tests.Nflog.Support.NetlinkBytes;

namespace Cleanroom.Network.Tests.Nflog;

public class NflogMessageParserTests
{
    private const ushort Group = 7;

    [Fact]
    public void Ipv4_tcp_gives_addresses_port_prefix_and_interfaces()
    {
        var payload = IpPackets.V4("10.20.0.2", "93.184.216.34", IpPackets.Tcp, IpPackets.Ports(40000, 443, 20));

        var packet = Parse(PacketBody(Group, FamilyIPv4, payload, prefix: "12", inputInterface: 12, outputInterface: 3));

        Assert.Equal(IPAddress.Parse("10.20.0.2"), packet.Source);
        Assert.Equal(IPAddress.Parse("93.184.216.34"), packet.Destination);
        Assert.Equal(6, packet.Protocol);
        Assert.Equal("tcp", packet.ProtocolName);
        Assert.Equal(443, packet.DestinationPort);
        Assert.Equal("12", packet.Prefix);
        Assert.Equal(12, packet.InputInterfaceIndex);
        Assert.Equal(3, packet.OutputInterfaceIndex);
    }

    [Fact]
    public void Ipv4_udp_with_ip_options_reads_the_port_after_the_options()
    {
        var payload = IpPackets.V4("10.20.0.2", "1.1.1.1", IpPackets.Udp, IpPackets.Ports(5000, 53), optionWords: 10);

        var packet = Parse(PacketBody(Group, FamilyIPv4, payload));

        Assert.Equal("udp", packet.ProtocolName);
        Assert.Equal(53, packet.DestinationPort);
        Assert.Null(packet.Prefix);
        Assert.Equal(0, packet.InputInterfaceIndex);
    }

    [Fact]
    public void Ipv4_icmp_has_port_zero()
    {
        var packet = Parse(PacketBody(Group, FamilyIPv4, IpPackets.V4("10.20.0.2", "8.8.8.8", IpPackets.Icmp, IpPackets.Echo(8))));

        Assert.Equal("icmp", packet.ProtocolName);
        Assert.Equal(0, packet.DestinationPort);
        Assert.Equal(IPAddress.Parse("8.8.8.8"), packet.Destination);
    }

    [Fact]
    public void Ipv4_later_fragment_has_no_port_even_if_its_bytes_look_like_one()
    {
        var payload = IpPackets.V4("10.20.0.2", "8.8.4.4", IpPackets.Udp, IpPackets.Ports(1, 999), fragmentField: 185);

        var packet = Parse(PacketBody(Group, FamilyIPv4, payload));

        Assert.Equal("udp", packet.ProtocolName);
        Assert.Equal(0, packet.DestinationPort);
    }

    [Fact]
    public void Ipv4_transport_header_cut_off_by_the_copy_range_gives_port_zero()
    {
        var payload = IpPackets.V4("10.20.0.2", "8.8.4.4", IpPackets.Tcp, [0x9c, 0x40, 0x01]);

        var packet = Parse(PacketBody(Group, FamilyIPv4, payload));

        Assert.Equal("tcp", packet.ProtocolName);
        Assert.Equal(0, packet.DestinationPort);
    }

    [Fact]
    public void Other_ipv4_protocols_are_named_other()
    {
        var packet = Parse(PacketBody(Group, FamilyIPv4, IpPackets.V4("10.20.0.2", "8.8.4.4", 132, IpPackets.Ports(1, 2))));

        Assert.Equal(132, packet.Protocol);
        Assert.Equal("other", packet.ProtocolName);
        Assert.Equal(0, packet.DestinationPort);
    }

    [Fact]
    public void Ipv6_udp_gives_addresses_and_port()
    {
        var payload = IpPackets.V6("fd00:20::2", "2606:4700::1111", IpPackets.Udp, IpPackets.Ports(5000, 853));

        var packet = Parse(PacketBody(Group, FamilyIPv6, payload, prefix: "3"));

        Assert.Equal(IPAddress.Parse("fd00:20::2"), packet.Source);
        Assert.Equal(IPAddress.Parse("2606:4700::1111"), packet.Destination);
        Assert.Equal("udp", packet.ProtocolName);
        Assert.Equal(853, packet.DestinationPort);
    }

    [Fact]
    public void Ipv6_tcp_behind_extension_headers_is_found()
    {
        var rest = IpPackets.Concat(IpPackets.Options8(60), IpPackets.Options8(44), IpPackets.Fragment(IpPackets.Tcp, 0), IpPackets.Ports(1, 8443));

        var packet = Parse(PacketBody(Group, FamilyIPv6, IpPackets.V6("fd00:20::2", "2001:db8::7", 0, rest)));

        Assert.Equal("tcp", packet.ProtocolName);
        Assert.Equal(8443, packet.DestinationPort);
    }

    [Fact]
    public void Ipv6_later_fragment_names_the_protocol_without_a_port()
    {
        var rest = IpPackets.Concat(IpPackets.Fragment(IpPackets.Udp, 100), IpPackets.Ports(1, 53));

        var packet = Parse(PacketBody(Group, FamilyIPv6, IpPackets.V6("fd00:20::2", "2001:db8::7", 44, rest)));

        Assert.Equal("udp", packet.ProtocolName);
        Assert.Equal(0, packet.DestinationPort);
    }

    [Fact]
    public void Ipv6_icmp_is_icmpv6_with_port_zero()
    {
        var packet = Parse(PacketBody(Group, FamilyIPv6, IpPackets.V6("fd00:20::2", "2001:db8::7", IpPackets.IcmpV6, IpPackets.Echo(128))));

        Assert.Equal("icmpv6", packet.ProtocolName);
        Assert.Equal(0, packet.DestinationPort);
    }

    [Fact]
    public void Ipv6_transport_header_beyond_the_copied_bytes_names_the_protocol_with_port_zero()
    {
        // The destination-options header claims 2 KiB that the copy does not hold; it still names TCP as next.
        byte[] longOptions = [IpPackets.Tcp, 255, 0, 0, 0, 0, 0, 0];

        var packet = Parse(PacketBody(Group, FamilyIPv6, IpPackets.V6("fd00:20::2", "2001:db8::9", 60, longOptions)));

        Assert.Equal(IPAddress.Parse("2001:db8::9"), packet.Destination);
        Assert.Equal("tcp", packet.ProtocolName);
        Assert.Equal(0, packet.DestinationPort);
    }

    [Fact]
    public void Ipv6_extension_header_beyond_the_copied_bytes_keeps_the_destination_with_an_unknown_protocol()
    {
        // The long header names another extension header, which lies beyond the copy.
        byte[] longOptions = [60, 255, 0, 0, 0, 0, 0, 0];

        var packet = Parse(PacketBody(Group, FamilyIPv6, IpPackets.V6("fd00:20::2", "2001:db8::9", 0, longOptions)));

        Assert.Equal(IPAddress.Parse("2001:db8::9"), packet.Destination);
        Assert.Equal(LoggedPacket.UnknownProtocol, packet.Protocol);
        Assert.Equal("other", packet.ProtocolName);
        Assert.Equal(0, packet.DestinationPort);
    }

    [Fact]
    public void Ipv6_endless_extension_chain_is_cut_off()
    {
        var rest = IpPackets.Concat(Enumerable.Range(0, 12).Select(_ => IpPackets.Options8(60)).Append(IpPackets.Ports(1, 80)).ToArray());

        var packet = Parse(PacketBody(Group, FamilyIPv6, IpPackets.V6("fd00:20::2", "2001:db8::9", 60, rest)));

        Assert.Equal(LoggedPacket.UnknownProtocol, packet.Protocol);
    }

    [Fact]
    public void Bridge_family_goes_by_the_ip_version()
    {
        var packet = Parse(PacketBody(Group, family: 7, IpPackets.V4("10.20.0.2", "9.9.9.9", IpPackets.Udp, IpPackets.Ports(1, 123))));

        Assert.Equal(123, packet.DestinationPort);
    }

    [Fact]
    public void An_empty_prefix_which_nftables_sends_for_a_rule_without_one_reads_as_none()
    {
        var payload = IpPackets.V4("10.20.0.2", "9.9.9.9", IpPackets.Udp, IpPackets.Ports(1, 123));

        Assert.Null(Parse(PacketBody(Group, FamilyIPv4, payload, prefix: "")).Prefix);
    }

    [Fact]
    public void Unknown_attributes_are_ignored()
    {
        var payload = IpPackets.V4("10.20.0.2", "9.9.9.9", IpPackets.Udp, IpPackets.Ports(1, 123));
        var body = Body(Group, FamilyIPv4, Attribute(PacketHeaderAttribute, PacketHeader()), Attribute(40, [1, 2, 3]), Attribute(PayloadAttribute, payload));

        Assert.Equal(123, Parse(body).DestinationPort);
    }

    public static TheoryData<string, byte[]> MalformedBodies()
    {
        var v4 = IpPackets.V4("10.20.0.2", "9.9.9.9", IpPackets.Udp, IpPackets.Ports(1, 123));
        var header = Attribute(PacketHeaderAttribute, PacketHeader());
        var payload = Attribute(PayloadAttribute, v4);
        return new TheoryData<string, byte[]>
        {
            { nameof(ParseFailure.BadGenericHeader), [FamilyIPv4, 0, 0] },
            { nameof(ParseFailure.BadGenericHeader), [FamilyIPv4, 1, 0, (byte)Group, .. header, .. payload] },
            { nameof(ParseFailure.WrongGroup), Body(8, FamilyIPv4, header, payload) },
            { nameof(ParseFailure.BadAttributes), Body(Group, FamilyIPv4, header, Attribute(PayloadAttribute, v4, lengthOverride: 200)) },
            { nameof(ParseFailure.BadAttributes), Body(Group, FamilyIPv4, header, Attribute(PayloadAttribute, v4, lengthOverride: 2)) },
            { nameof(ParseFailure.BadAttributes), Body(Group, FamilyIPv4, header, payload, [1, 0]) },
            { nameof(ParseFailure.BadAttributes), Body(Group, FamilyIPv4, [header, .. Enumerable.Repeat(Attribute(40, []), 70), payload]) },
            { nameof(ParseFailure.DuplicateAttribute), Body(Group, FamilyIPv4, header, payload, payload) },
            { nameof(ParseFailure.MissingPacketHeader), Body(Group, FamilyIPv4, payload) },
            { nameof(ParseFailure.MissingPacketHeader), Body(Group, FamilyIPv4, Attribute(PacketHeaderAttribute, [8, 0]), payload) },
            { nameof(ParseFailure.MissingPayload), Body(Group, FamilyIPv4, header) },
            { nameof(ParseFailure.BadPrefix), Body(Group, FamilyIPv4, header, Attribute(PrefixAttribute, "abc"u8.ToArray()), payload) },
            { nameof(ParseFailure.BadPrefix), Body(Group, FamilyIPv4, header, Attribute(PrefixAttribute, [(byte)'a', 0, (byte)'b', 0]), payload) },
            { nameof(ParseFailure.BadPrefix), Body(Group, FamilyIPv4, header, Attribute(PrefixAttribute, [(byte)'a', 0x1b, (byte)'[', 0]), payload) },
            { nameof(ParseFailure.BadPrefix), Body(Group, FamilyIPv4, header, Attribute(PrefixAttribute, [.. Enumerable.Repeat((byte)'x', 200), 0]), payload) },
            { nameof(ParseFailure.BadInterfaceIndex), Body(Group, FamilyIPv4, header, Attribute(InputInterfaceAttribute, [0, 1]), payload) },
            { nameof(ParseFailure.BadInterfaceIndex), Body(Group, FamilyIPv4, header, Attribute(OutputInterfaceAttribute, BigEndian32(0x80000000)), payload) },
            { nameof(ParseFailure.NotIp), Body(Group, FamilyIPv4, header, Attribute(PayloadAttribute, [])) },
            { nameof(ParseFailure.NotIp), Body(Group, FamilyIPv4, header, Attribute(PayloadAttribute, [0x50, .. v4[1..]])) },
            { nameof(ParseFailure.NotIp), Body(Group, FamilyIPv6, header, payload) },
            { nameof(ParseFailure.TruncatedIpHeader), Body(Group, FamilyIPv4, header, Attribute(PayloadAttribute, v4[..19])) },
            { nameof(ParseFailure.TruncatedIpHeader), Body(Group, FamilyIPv4, header, Attribute(PayloadAttribute, [0x4F, .. v4[1..28]])) },
            { nameof(ParseFailure.TruncatedIpHeader), Body(Group, FamilyIPv4, header, Attribute(PayloadAttribute, [0x43, .. v4[1..]])) },
            { nameof(ParseFailure.TruncatedIpHeader), Body(Group, FamilyIPv6, header, Attribute(PayloadAttribute, IpPackets.V6("::1", "::2", 17, [])[..39])) },
        };
    }

    [Theory]
    [MemberData(nameof(MalformedBodies))]
    public void Malformed_messages_are_refused_with_their_reason(string expected, byte[] body)
    {
        var failure = NflogMessageParser.TryParse(body, Group, out var packet);

        Assert.Equal(expected, failure.ToString());
        Assert.Null(packet);
    }

    private static LoggedPacket Parse(byte[] body)
    {
        var failure = NflogMessageParser.TryParse(body, Group, out var packet);
        Assert.Equal(ParseFailure.None, failure);
        return packet!;
    }
}
