namespace Cleanroom.Network.Dns.Wire;

/// <summary>The one question of a query: a name, a record type and a class (RFC 1035 §4.1.2).</summary>
internal sealed record DnsQuestion(DnsName Name, ushort Type, ushort Class)
{
    /// <summary>Same name (case-insensitively), type and class.</summary>
    public bool Matches(DnsQuestion other) => Name.Equals(other.Name) && Type == other.Type && Class == other.Class;

    /// <summary>Reads a question; false when it runs past the message or its name is invalid.</summary>
    public static bool TryRead(ref DnsReader reader, out DnsQuestion question)
    {
        question = null!;
        if (!reader.TryReadName(out var name) || !reader.TryReadUInt16(out var type) || !reader.TryReadUInt16(out var @class))
        {
            return false;
        }

        question = new DnsQuestion(name, type, @class);
        return true;
    }

    /// <summary>Writes the question with its name uncompressed and remembers it for later owner names.</summary>
    public void Write(DnsWriter writer)
    {
        writer.WriteName(Name, compress: false);
        writer.WriteUInt16(Type);
        writer.WriteUInt16(Class);
    }
}
