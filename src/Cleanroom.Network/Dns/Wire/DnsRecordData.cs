namespace Cleanroom.Network.Dns.Wire;

/// <summary>
/// Parses record data for the types the filter copies into answers: A, AAAA, CNAME, NS, PTR, MX, SRV and TXT. Each
/// is checked to fill its RDLENGTH exactly. Other types are skipped whole (the filter drops them) because their data
/// may hold compressed names or structures the filter cannot rewrite safely.
/// </summary>
internal static class DnsRecordData
{
    public enum Outcome
    {
        /// <summary>Parsed; the record may be copied.</summary>
        Parsed,

        /// <summary>A type the filter does not copy; its data was skipped.</summary>
        Skipped,

        /// <summary>The data does not match its type or runs past RDLENGTH or the message.</summary>
        Malformed,
    }

    public static Outcome TryRead(ref DnsReader reader, ushort type, int length, out byte[] fixedPart, out DnsName? target)
    {
        fixedPart = [];
        target = null;
        var end = reader.Position + length;
        if (length > reader.Remaining)
        {
            return Outcome.Malformed;
        }

        var parsed = false;
        ReadOnlySpan<byte> bytes;
        DnsName name;
        switch (type)
        {
            case DnsRecordType.A:
            case DnsRecordType.Aaaa:
                if (length == (type == DnsRecordType.A ? 4 : 16) && reader.TryReadBytes(length, out bytes))
                {
                    fixedPart = bytes.ToArray();
                    parsed = true;
                }

                break;
            case DnsRecordType.Cname:
            case DnsRecordType.Ns:
            case DnsRecordType.Ptr:
                if (reader.TryReadName(out name))
                {
                    target = name;
                    parsed = true;
                }

                break;
            case DnsRecordType.Mx:
            case DnsRecordType.Srv:
                if (reader.TryReadBytes(type == DnsRecordType.Mx ? 2 : 6, out bytes) && reader.TryReadName(out name))
                {
                    fixedPart = bytes.ToArray();
                    target = name;
                    parsed = true;
                }

                break;
            case DnsRecordType.Txt:
                if (reader.TryReadBytes(length, out bytes) && IsCharacterStrings(bytes))
                {
                    fixedPart = bytes.ToArray();
                    parsed = true;
                }

                break;
            default:
                return reader.TryReadBytes(length, out _) ? Outcome.Skipped : Outcome.Malformed;
        }

        // A name may end before or after RDLENGTH says; either way the record is not what it claims to be.
        return parsed && reader.Position == end ? Outcome.Parsed : Outcome.Malformed;
    }

    // One or more <length><bytes> strings that exactly fill the data (RFC 1035 §3.3.14).
    private static bool IsCharacterStrings(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return false;
        }

        var at = 0;
        while (at < data.Length)
        {
            at += data[at] + 1;
        }

        return at == data.Length;
    }
}
