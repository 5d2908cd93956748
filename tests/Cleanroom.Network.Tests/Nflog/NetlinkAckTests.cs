using System.Runtime.InteropServices;
using Cleanroom.Network.Nflog;
using static Cleanroom.Network.Tests.Nflog.Support.NetlinkBytes;

namespace Cleanroom.Network.Tests.Nflog;

public class NetlinkAckTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(524)]
    public void The_answer_to_our_sequence_gives_its_errno(int errno)
    {
        var datagram = Datagram(Message(Error, ErrorBody(-errno), sequence: 5));

        Assert.True(NetlinkAck.TryFind(datagram, 5, out var found));
        Assert.Equal(errno, found);
    }

    [Fact]
    public void Answers_to_other_requests_and_packets_are_passed_over()
    {
        var datagram = Datagram(
            Message(PacketType, Body(7, FamilyIPv4)),
            Message(Error, ErrorBody(-1), sequence: 4),
            Message(Error, ErrorBody(-16), sequence: 5));

        Assert.True(NetlinkAck.TryFind(datagram, 5, out var found));
        Assert.Equal(16, found);
    }

    [Theory]
    [InlineData(new byte[] { 0, 0, 0, 0 })]
    [InlineData(new byte[] { 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 })]
    public void Error_messages_too_short_or_with_a_positive_error_are_not_answers(byte[] body)
    {
        Assert.False(NetlinkAck.TryFind(Datagram(Message(Error, body, sequence: 5)), 5, out _));
    }

    private static byte[] ErrorBody(int error)
    {
        var body = new byte[20];
        MemoryMarshal.Write(body, in error);
        return body;
    }
}
