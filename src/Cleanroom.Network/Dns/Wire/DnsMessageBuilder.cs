namespace Cleanroom.Network.Dns.Wire;

/// <summary>Writes the two kinds of message the filter sends: its own upstream queries and its answers to guests.</summary>
internal static class DnsMessageBuilder
{
    /// <summary>The largest upstream query: a header, a 255-byte name, type, class and an OPT record.</summary>
    private const int MaxQueryLength = DnsHeader.Length + DnsName.MaxWireLength + 4 + 11;

    /// <summary>
    /// A fresh recursive query holding only <paramref name="question"/>, with an OPT record advertising
    /// <paramref name="ednsUdpSize"/> when it is not null.
    /// </summary>
    public static byte[] Query(ushort id, DnsQuestion question, ushort? ednsUdpSize)
    {
        var writer = new DnsWriter(MaxQueryLength);
        new DnsHeader(id, DnsHeader.RecursionDesiredFlag, 1, 0, 0, (ushort)(ednsUdpSize is null ? 0 : 1)).Write(writer);
        question.Write(writer);
        if (ednsUdpSize is { } size)
        {
            WriteOpt(writer, size);
        }

        return writer.ToArray();
    }

    /// <summary>
    /// An answer to a guest: its id and RD bit, RA set, <paramref name="code"/>, its question (none for a query too broken
    /// to have one), <paramref name="answers"/>, and an OPT record when the guest sent one. When it does not fit in
    /// <paramref name="maxLength"/>, the answer records are left out and TC is set so the guest retries over TCP.
    /// </summary>
    public static byte[] Response(
        ushort id, bool recursionDesired, DnsResponseCode code, DnsQuestion? question, IReadOnlyList<DnsRecord> answers,
        ushort? ednsUdpSize, int maxLength)
    {
        var full = Write(id, recursionDesired, code, question, answers, ednsUdpSize, maxLength, truncated: false);
        return full ?? Write(id, recursionDesired, code, question, [], ednsUdpSize, maxLength, truncated: true)
            ?? throw new InvalidOperationException("a response without answers must fit in any DNS message size");
    }

    private static byte[]? Write(
        ushort id, bool recursionDesired, DnsResponseCode code, DnsQuestion? question, IReadOnlyList<DnsRecord> answers,
        ushort? ednsUdpSize, int maxLength, bool truncated)
    {
        var flags = (ushort)(DnsHeader.ResponseFlag | DnsHeader.RecursionAvailableFlag | (ushort)code
            | (recursionDesired ? DnsHeader.RecursionDesiredFlag : 0)
            | (truncated ? DnsHeader.TruncatedFlag : 0));
        var writer = new DnsWriter(maxLength);
        new DnsHeader(id, flags, (ushort)(question is null ? 0 : 1), (ushort)answers.Count, 0, (ushort)(ednsUdpSize is null ? 0 : 1))
            .Write(writer);
        question?.Write(writer);
        foreach (var record in answers)
        {
            record.Write(writer);
        }

        if (ednsUdpSize is { } size)
        {
            WriteOpt(writer, size);
        }

        return writer.Overflowed ? null : writer.ToArray();
    }

    // RFC 6891 §6.1.2: root owner, type OPT, the UDP payload size as class, extended RCODE/version/flags 0, no options.
    private static void WriteOpt(DnsWriter writer, ushort udpSize)
    {
        writer.WriteName(DnsName.Root, compress: false);
        writer.WriteUInt16(DnsRecordType.Opt);
        writer.WriteUInt16(udpSize);
        writer.WriteUInt32(0);
        writer.WriteUInt16(0);
    }
}
