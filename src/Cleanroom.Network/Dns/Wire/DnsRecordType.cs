namespace Cleanroom.Network.Dns.Wire;

/// <summary>The record types the filter handles by name (RFC 1035, 3596, 2782, 6891, 9460); any other is a number.</summary>
internal static class DnsRecordType
{
    public const ushort A = 1;
    public const ushort Ns = 2;
    public const ushort Cname = 5;
    public const ushort Ptr = 12;
    public const ushort Mx = 15;
    public const ushort Txt = 16;
    public const ushort Aaaa = 28;
    public const ushort Srv = 33;
    public const ushort Opt = 41;

    /// <summary>The class of every record the filter deals in.</summary>
    public const ushort ClassIn = 1;

    /// <summary>
    /// Question types that are not data types: OPT and the meta and query-only types 128–255 (TKEY, TSIG, IXFR, AXFR,
    /// MAILB, MAILA, ANY). The filter does not resolve them for anyone.
    /// </summary>
    public static bool IsMeta(ushort type) => type == Opt || type is >= 128 and <= 255;
}
