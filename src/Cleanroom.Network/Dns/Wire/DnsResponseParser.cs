namespace Cleanroom.Network.Dns.Wire;

/// <summary>
/// Checks an upstream message against the query the filter sent and parses its answer section. Authority and
/// additional sections are never read: the filter passes none of them on.
/// </summary>
internal static class DnsResponseParser
{
    public enum Outcome
    {
        /// <summary>The answer to our query.</summary>
        Response,

        /// <summary>Not an answer to our query (another id or question, or not a response): ignore it and keep waiting.</summary>
        Mismatch,

        /// <summary>It claims to answer our query but is not well formed: this upstream failed.</summary>
        Malformed,
    }

    public static Outcome Parse(ReadOnlySpan<byte> message, ushort id, DnsQuestion question, out DnsUpstreamResponse? response)
    {
        response = null;
        if (!DnsHeader.TryRead(message, out var header) || header.Id != id || !header.IsResponse)
        {
            return Outcome.Mismatch;
        }

        if (header.Opcode != DnsHeader.OpcodeQuery || header.QuestionCount != 1)
        {
            return Outcome.Malformed;
        }

        var reader = new DnsReader(message, DnsHeader.Length);
        if (!DnsQuestion.TryRead(ref reader, out var echoed))
        {
            return Outcome.Malformed;
        }

        if (!echoed.Matches(question))
        {
            return Outcome.Mismatch;
        }

        if (header.IsTruncated)
        {
            response = new DnsUpstreamResponse(header.ResponseCode, Truncated: true, []);
            return Outcome.Response;
        }

        var answers = new List<DnsRecord>();
        for (var i = 0; i < header.AnswerCount; i++)
        {
            if (!reader.TryReadName(out var owner)
                || !reader.TryReadUInt16(out var type)
                || !reader.TryReadUInt16(out var @class)
                || !reader.TryReadUInt32(out var ttl)
                || !reader.TryReadUInt16(out var length))
            {
                return Outcome.Malformed;
            }

            if (@class != DnsRecordType.ClassIn)
            {
                if (!reader.TryReadBytes(length, out _))
                {
                    return Outcome.Malformed;
                }

                continue;
            }

            switch (DnsRecordData.TryRead(ref reader, type, length, out var fixedPart, out var target))
            {
                case DnsRecordData.Outcome.Parsed:
                    answers.Add(new DnsRecord(owner, type, ttl, fixedPart, target));
                    break;
                case DnsRecordData.Outcome.Malformed:
                    return Outcome.Malformed;
                default:
                    break;
            }
        }

        response = new DnsUpstreamResponse(header.ResponseCode, Truncated: false, answers);
        return Outcome.Response;
    }
}
