namespace Cleanroom.Network.Dns.Wire;

/// <summary>
/// Parses what a guest sends, strictly: a standard query (QR=0, opcode QUERY) with exactly one question, no answer or
/// authority records, and at most one additional record, which must be an OPT. Anything else is dropped or answered
/// with an error code; the caller never sees an exception.
/// </summary>
internal static class DnsQueryParser
{
    /// <summary>What to do with a message that is not a query the filter serves.</summary>
    public enum Outcome
    {
        /// <summary>A query to serve.</summary>
        Query,

        /// <summary>Not worth an answer: too short for a header, or a response (answering responses invites loops).</summary>
        Drop,

        /// <summary>Answer FORMERR: a query, but not a well-formed one-question query.</summary>
        FormatError,

        /// <summary>Answer NOTIMP: another opcode or a class other than IN.</summary>
        NotImplemented,
    }

    public static Outcome Parse(ReadOnlySpan<byte> message, out DnsHeader header, out DnsQuery? query)
    {
        query = null;
        if (!DnsHeader.TryRead(message, out header) || header.IsResponse)
        {
            return Outcome.Drop;
        }

        if (header.Opcode != DnsHeader.OpcodeQuery)
        {
            return Outcome.NotImplemented;
        }

        if (header.QuestionCount != 1 || header.AnswerCount != 0 || header.AuthorityCount != 0 || header.AdditionalCount > 1)
        {
            return Outcome.FormatError;
        }

        var reader = new DnsReader(message, DnsHeader.Length);
        if (!DnsQuestion.TryRead(ref reader, out var question))
        {
            return Outcome.FormatError;
        }

        ushort? ednsUdpSize = null;
        if (header.AdditionalCount == 1)
        {
            if (!TryReadOpt(ref reader, out var size))
            {
                return Outcome.FormatError;
            }

            ednsUdpSize = size;
        }

        if (reader.Remaining != 0)
        {
            return Outcome.FormatError;
        }

        if (question.Class != DnsRecordType.ClassIn)
        {
            return Outcome.NotImplemented;
        }

        query = new DnsQuery(header.Id, header.RecursionDesired, question, ednsUdpSize);
        return Outcome.Query;
    }

    // An OPT pseudo-record (RFC 6891 §6.1.2): the root name, type 41, the UDP payload size in the class field, and
    // options the filter reads past without interpreting.
    private static bool TryReadOpt(ref DnsReader reader, out ushort udpSize)
    {
        udpSize = 0;
        return reader.TryReadName(out var owner) && owner.Equals(DnsName.Root)
            && reader.TryReadUInt16(out var type) && type == DnsRecordType.Opt
            && reader.TryReadUInt16(out udpSize)
            && reader.TryReadUInt32(out _)
            && reader.TryReadUInt16(out var length)
            && reader.TryReadBytes(length, out _);
    }
}
