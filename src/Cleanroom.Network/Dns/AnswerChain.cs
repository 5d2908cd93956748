using Cleanroom.Network.Dns.Wire;

namespace Cleanroom.Network.Dns;

/// <summary>
/// The records of an upstream answer that belong to the question: the CNAME chain from the name asked, then the
/// records of the asked type owned by the chain's last name. Everything else an upstream put in its answer section
/// (records for other names, which a cache-poisoning attempt would add) is left out.
/// </summary>
internal static class AnswerChain
{
    /// <summary>
    /// The chain's records in order, then at most <paramref name="maxRecords"/> data records; null when the chain is
    /// longer than <paramref name="maxCnames"/> or loops.
    /// </summary>
    public static IReadOnlyList<DnsRecord>? Select(DnsQuestion question, IReadOnlyList<DnsRecord> answers, int maxCnames, int maxRecords)
    {
        var selected = new List<DnsRecord>();
        var current = question.Name;
        if (question.Type != DnsRecordType.Cname)
        {
            var seen = new HashSet<DnsName> { current };
            while (answers.FirstOrDefault(r => r.Type == DnsRecordType.Cname && r.Owner.Equals(current)) is { Target: { } target } cname)
            {
                if (selected.Count == maxCnames || !seen.Add(target))
                {
                    return null;
                }

                selected.Add(cname);
                current = target;
            }
        }

        selected.AddRange(answers.Where(r => r.Type == question.Type && r.Owner.Equals(current)).Take(maxRecords));
        return selected;
    }

    /// <summary>
    /// The one TTL every record of the answer gets: the smallest in the answer, at most <paramref name="maxTtl"/>. One
    /// TTL for the whole chain means a guest never holds a CNAME whose target it must then look up by itself (a name
    /// the policy may not allow); TTLs with the top bit set count as zero (RFC 2181 §8).
    /// </summary>
    public static uint AnswerTtl(IReadOnlyList<DnsRecord> records, TimeSpan maxTtl)
    {
        var ttl = (uint)maxTtl.TotalSeconds;
        foreach (var record in records)
        {
            ttl = Math.Min(ttl, record.Ttl > int.MaxValue ? 0 : record.Ttl);
        }

        return ttl;
    }
}
