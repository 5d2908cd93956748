using Cleanroom.Network.Dns.Wire;
using Cleanroom.Network.Tests.Dns.Wire;

namespace Cleanroom.Network.Tests.Dns.Support;

/// <summary>A query as a guest's stub resolver sends it, and the answer it gets back, parsed.</summary>
internal sealed record GuestQuery(ushort Id, string Name, ushort Type, bool Edns = false)
{
    public const ushort A = DnsRecordType.A;
    public const ushort Aaaa = DnsRecordType.Aaaa;
    public const ushort Mx = DnsRecordType.Mx;
    public const ushort Txt = DnsRecordType.Txt;
    public const ushort Ptr = DnsRecordType.Ptr;

    public byte[] Bytes => WireBytes.Concat(
        WireBytes.Header(id: Id, ar: (ushort)(Edns ? 1 : 0)),
        WireBytes.Question(Name, Type),
        Edns ? WireBytes.Opt(1232) : []);

    /// <summary>Parses an answer to this query; fails the test when it is not one.</summary>
    public GuestAnswer Parse(byte[] message)
    {
        Assert.True(DnsHeader.TryRead(message, out var header), "an answer has a header");
        Assert.True(DnsName.TryParse(Name, out var name));
        var question = new DnsQuestion(name, Type, DnsRecordType.ClassIn);
        Assert.Equal(DnsResponseParser.Outcome.Response, DnsResponseParser.Parse(message, Id, question, out var response));

        // The question comes back in the guest's own spelling, byte for byte.
        Assert.Equal(WireBytes.Question(Name, Type), message[12..(12 + WireBytes.Question(Name, Type).Length)]);
        return new GuestAnswer(header, response!.Answers);
    }
}

/// <summary>An answer as the guest sees it.</summary>
internal sealed record GuestAnswer(DnsHeader Header, IReadOnlyList<DnsRecord> Records)
{
    public DnsResponseCode Code => Header.ResponseCode;

    public IEnumerable<string> Addresses => Records
        .Where(r => r.Type is DnsRecordType.A or DnsRecordType.Aaaa)
        .Select(r => new System.Net.IPAddress(r.Fixed).ToString());
}
