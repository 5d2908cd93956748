namespace Cleanroom.Network.Nflog;

/// <summary>What one datagram held besides the packets handed on.</summary>
internal record struct DatagramTally(int Packets, int Malformed, int KernelDropped);

/// <summary>
/// Splits one datagram from the kernel into logged packets. The kernel batches: several packet messages, then an
/// NLMSG_DONE when there was more than one (the packet messages themselves carry no NLM_F_MULTI). Everything that is
/// not a well-formed packet message is counted and skipped; parsing never throws.
/// </summary>
internal static class NflogDatagramParser
{
    public static DatagramTally Parse(ReadOnlySpan<byte> datagram, ushort group, Action<LoggedPacket> onPacket)
    {
        var tally = default(DatagramTally);
        var reader = new NetlinkMessageReader(datagram);
        while (reader.TryRead(out var message))
        {
            switch (message.Type)
            {
                case NetlinkFormat.TypeNoop or NetlinkFormat.TypeDone:
                    break;
                case NetlinkFormat.TypeOverrun:
                    tally.KernelDropped++;
                    break;
                case NflogProtocol.PacketMessageType:
                    if (NflogMessageParser.TryParse(message.Payload, group, out var packet) == ParseFailure.None)
                    {
                        tally.Packets++;
                        onPacket(packet!);
                    }
                    else
                    {
                        tally.Malformed++;
                    }

                    break;
                default:
                    // NLMSG_ERROR (no request is outstanding once bound) or a type this socket never asked for.
                    tally.Malformed++;
                    break;
            }
        }

        if (reader.Malformed)
        {
            tally.Malformed++;
        }

        return tally;
    }
}
