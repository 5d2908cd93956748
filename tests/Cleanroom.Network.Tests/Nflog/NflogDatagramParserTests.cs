using System.Net;
using Cleanroom.Network.Nflog;
using Cleanroom.Network.Tests.Nflog.Support;
using static Cleanroom.Network.Tests.Nflog.Support.NetlinkBytes;

namespace Cleanroom.Network.Tests.Nflog;

public class NflogDatagramParserTests
{
    private const ushort Group = 7;

    [Fact]
    public void A_kernel_batch_of_packets_ending_in_done_yields_every_packet_in_order()
    {
        var datagram = Datagram(
            Packet("10.0.0.1", 1001),
            Packet("10.0.0.2", 1002),
            Packet("10.0.0.3", 1003),
            Message(Done, Body(0, 0)));

        var (packets, tally) = Parse(datagram);

        Assert.Equal([1001, 1002, 1003], packets.Select(p => p.DestinationPort));
        Assert.Equal(new DatagramTally(3, 0, 0), tally);
    }

    [Fact]
    public void The_last_message_may_lack_its_padding()
    {
        var payload = IpPackets.V4("10.0.0.9", "10.1.0.1", IpPackets.Udp, IpPackets.Ports(1, 53))[..27];
        var body = Body(Group, FamilyIPv4, Attribute(PacketHeaderAttribute, PacketHeader()), Attribute(PayloadAttribute, payload)[..31]);
        Assert.NotEqual(0, body.Length % 4);

        var (packets, tally) = Parse(Datagram(Packet("10.0.0.1", 1), Message(PacketType, body, pad: false)));

        Assert.Equal(2, packets.Count);
        Assert.Equal(0, tally.Malformed);
    }

    [Fact]
    public void A_message_length_past_the_datagram_ends_the_walk_after_the_good_messages()
    {
        var lying = Message(PacketType, PacketBody(Group, FamilyIPv4, V4Udp("10.0.0.2", 2)), lengthOverride: 4096);

        var (packets, tally) = Parse(Datagram(Packet("10.0.0.1", 1), lying, Packet("10.0.0.3", 3)));

        Assert.Equal([1], packets.Select(p => p.DestinationPort));
        Assert.Equal(1, tally.Malformed);
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(15u)]
    public void A_message_length_shorter_than_its_header_ends_the_walk(uint length)
    {
        var (packets, tally) = Parse(Datagram(Message(PacketType, PacketBody(Group, FamilyIPv4, V4Udp("10.0.0.2", 2)), lengthOverride: length), Packet("10.0.0.3", 3)));

        Assert.Empty(packets);
        Assert.Equal(1, tally.Malformed);
    }

    [Fact]
    public void Trailing_bytes_shorter_than_a_header_are_counted()
    {
        var (packets, tally) = Parse(Datagram(Packet("10.0.0.1", 1), [1, 2, 3, 4, 5]));

        Assert.Single(packets);
        Assert.Equal(1, tally.Malformed);
    }

    [Fact]
    public void A_bad_message_is_skipped_and_the_next_one_is_still_read()
    {
        var wrongGroup = Message(PacketType, PacketBody(99, FamilyIPv4, V4Udp("10.0.0.2", 2)));

        var (packets, tally) = Parse(Datagram(wrongGroup, Packet("10.0.0.3", 3)));

        Assert.Equal([3], packets.Select(p => p.DestinationPort));
        Assert.Equal(1, tally.Malformed);
    }

    [Fact]
    public void Overrun_messages_count_as_kernel_drops_and_errors_or_strangers_as_malformed()
    {
        var (packets, tally) = Parse(Datagram(
            Message(Overrun, []),
            Message(Error, [0xF0, 0xFF, 0xFF, 0xFF, .. new byte[16]]),
            Message(0x0101, Body(Group, FamilyIPv4)),
            Packet("10.0.0.3", 3)));

        Assert.Single(packets);
        Assert.Equal(new DatagramTally(1, 2, 1), tally);
    }

    [Fact]
    public void Empty_datagram_is_nothing()
    {
        Assert.Equal(default, Parse([]).Tally);
    }

    [Fact]
    public void Random_corruption_of_a_valid_batch_never_throws_and_every_message_is_accounted_for()
    {
        var valid = Datagram(
            Packet("10.0.0.1", 1),
            Message(PacketType, PacketBody(Group, FamilyIPv6, IpPackets.V6("fd00::1", "2001:db8::1", 0, IpPackets.Concat(IpPackets.Options8(17), IpPackets.Ports(1, 2)))), sequence: 2),
            Packet("10.0.0.3", 3),
            Message(Done, Body(0, 0)));
        var random = new Random(20240611);

        for (var round = 0; round < 20000; round++)
        {
            var corrupt = (byte[])valid.Clone();
            var flips = random.Next(1, 6);
            for (var i = 0; i < flips; i++)
            {
                corrupt[random.Next(corrupt.Length)] = (byte)random.Next(256);
            }

            var cut = random.Next(2) == 0 ? corrupt : corrupt[..random.Next(corrupt.Length)];
            var (packets, tally) = Parse(cut);

            Assert.Equal(packets.Count, tally.Packets);
            Assert.All(packets, p => Assert.InRange(p.DestinationPort, 0, 65535));
        }
    }

    private static byte[] V4Udp(string destination, int port) => IpPackets.V4("10.20.0.2", destination, IpPackets.Udp, IpPackets.Ports(40000, port));

    private static byte[] Packet(string destination, int port) => Message(PacketType, PacketBody(Group, FamilyIPv4, V4Udp(destination, port), prefix: "5"));

    private static (List<LoggedPacket> Packets, DatagramTally Tally) Parse(byte[] datagram)
    {
        var packets = new List<LoggedPacket>();
        var tally = NflogDatagramParser.Parse(datagram, Group, packets.Add);
        Assert.All(packets, p => Assert.NotEqual(IPAddress.None, p.Destination));
        return (packets, tally);
    }
}
