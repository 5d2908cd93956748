using System.Formats.Tar;
using Cleanroom.Escaping;

namespace Cleanroom.GuestAgent.Tests.Tools;

/// <summary>Names whose bytes are not valid UTF-8, and reading a tar's exact names back.</summary>
internal static class RawNames
{
    /// <summary>"café" in Latin-1: a lone 0xE9.</summary>
    public static readonly byte[] Cafe = RawFiles.Bytes("caf", 0xE9);

    /// <summary>Two bytes that never occur in UTF-8.</summary>
    public static readonly byte[] Invalid = [0xFF, 0xFE];

    /// <summary>A three-byte sequence cut after two bytes.</summary>
    public static readonly byte[] Truncated = RawFiles.Bytes("trunc", 0xE2, 0x82);

    /// <summary>A directory whose name ends inside a two-byte sequence.</summary>
    public static readonly byte[] Directory = RawFiles.Bytes("d", 0xC3);

    /// <summary>A lone continuation byte between two letters.</summary>
    public static readonly byte[] Continuation = RawFiles.Bytes("x", 0x80, (byte)'y');

    /// <summary>Valid UTF-8 that holds U+FFFD itself.</summary>
    public static readonly byte[] LiteralReplacement = RawFiles.Bytes("lit\uFFFD");

    /// <summary>The name a tool gets for <paramref name="bytes"/>.</summary>
    public static string Name(byte[] bytes) => FileNameBytes.Decode(bytes);

    /// <summary>The entries of a tar by their exact names (vendor records first): name bytes, type, link target bytes.</summary>
    public static List<(string Name, TarEntryType Type, string LinkName)> ExactEntries(byte[] tar)
    {
        var result = new List<(string, TarEntryType, string)>();
        using var reader = new TarReader(new MemoryStream(tar));
        while (reader.GetNextEntry() is { } entry)
        {
            result.Add((PaxRawNames.NameOf(entry), entry.EntryType, PaxRawNames.LinkNameOf(entry)));
        }

        return result;
    }

    /// <summary>An entry with a hand-made vendor record (hostile ones included).</summary>
    public static PaxTarEntry WithRecord(TarEntryType type, string name, string key, string value, string content = "")
    {
        var entry = new PaxTarEntry(type, name, new Dictionary<string, string> { [key] = value });
        if (type == TarEntryType.RegularFile)
        {
            entry.DataStream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(content));
        }

        return entry;
    }
}
