namespace Cleanroom.Network.Dns.Wire;

/// <summary>
/// One answer record of class IN, parsed into parts the filter can write back safely: <see cref="Fixed"/> holds the
/// record data's leading fixed-size fields (an address, an MX preference, SRV numbers, or all of a TXT record's
/// strings) and <see cref="Target"/> the name that follows them, decompressed. Writing it never copies a compression
/// pointer from an upstream message.
/// </summary>
internal sealed record DnsRecord(DnsName Owner, ushort Type, uint Ttl, byte[] Fixed, DnsName? Target)
{
    /// <summary>The record with another TTL.</summary>
    public DnsRecord WithTtl(uint ttl) => this with { Ttl = ttl };

    public void Write(DnsWriter writer)
    {
        writer.WriteName(Owner, compress: true);
        writer.WriteUInt16(Type);
        writer.WriteUInt16(DnsRecordType.ClassIn);
        writer.WriteUInt32(Ttl);
        var lengthAt = writer.Length;
        writer.WriteUInt16(0);
        var dataStart = writer.Length;
        writer.WriteBytes(Fixed);
        if (Target is not null)
        {
            writer.WriteName(Target, compress: false);
        }

        writer.PatchUInt16(lengthAt, (ushort)(writer.Length - dataStart));
    }
}
