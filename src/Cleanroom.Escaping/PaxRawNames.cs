using System.Formats.Tar;

namespace Cleanroom.Escaping;

/// <summary>
/// How Cleanroom's own tar streams (guest agent ↔ host ↔ CLI) carry a name that is not valid UTF-8. PAX defines
/// <c>path</c> and <c>linkpath</c> as UTF-8, and .NET's tar reader decodes them lossily, so such an entry keeps a
/// lossy <c>path</c> (U+FFFD where the bytes were, for other tar tools) and adds the exact bytes, base64, in the
/// vendor records <see cref="PathKey"/> and <see cref="LinkPathKey"/>. Readers prefer the vendor record.
/// </summary>
/// <remarks>
/// A vendor record is input like any other: its value is bounded, must be base64, and must not hold NUL; the name it
/// gives then goes through the same confinement as every other entry name.
/// </remarks>
public static class PaxRawNames
{
    /// <summary>The entry's name as raw bytes, base64.</summary>
    public const string PathKey = "CLEANROOM.rawpath";

    /// <summary>The entry's link target (symlink or hard link) as raw bytes, base64.</summary>
    public const string LinkPathKey = "CLEANROOM.rawlinkpath";

    /// <summary>The longest raw name accepted, in bytes (Linux's PATH_MAX).</summary>
    public const int MaxBytes = 4096;

    /// <summary>
    /// The vendor records an entry with this name and link target needs, or null when neither needs one (the entry
    /// then is an ordinary one). A name that really holds U+FFFD gets a record too: readers refuse a U+FFFD name
    /// without one, since from a foreign tar it means bytes were lost.
    /// </summary>
    public static Dictionary<string, string>? RecordsFor(string name, string? linkName)
    {
        Dictionary<string, string>? records = null;
        if (NeedsRecord(name))
        {
            records = new() { [PathKey] = Convert.ToBase64String(FileNameBytes.Encode(name)) };
        }

        if (linkName is not null && NeedsRecord(linkName))
        {
            records ??= [];
            records[LinkPathKey] = Convert.ToBase64String(FileNameBytes.Encode(linkName));
        }

        return records;
    }

    /// <summary>A PAX entry for <paramref name="name"/>, with the vendor records it needs.</summary>
    public static PaxTarEntry Entry(TarEntryType type, string name, string? linkName = null)
    {
        var records = RecordsFor(name, linkName);
        var entry = records is null ? new PaxTarEntry(type, name) : new PaxTarEntry(type, name, records);
        if (linkName is not null)
        {
            entry.LinkName = linkName;
        }

        return entry;
    }

    /// <summary>The entry's exact name: the vendor record's when present, else the entry's own.</summary>
    /// <exception cref="InvalidDataException">The vendor record is not valid.</exception>
    public static string NameOf(TarEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return Raw(entry, PathKey) ?? entry.Name;
    }

    /// <summary>The entry's exact link target: the vendor record's when present, else the entry's own.</summary>
    /// <exception cref="InvalidDataException">The vendor record is not valid.</exception>
    public static string LinkNameOf(TarEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return Raw(entry, LinkPathKey) ?? entry.LinkName;
    }

    private static bool NeedsRecord(string name) =>
        FileNameBytes.HasEscapedBytes(name) || name.Contains('\uFFFD', StringComparison.Ordinal);

    private static string? Raw(TarEntry entry, string key)
    {
        if (entry is not PaxTarEntry pax || !pax.ExtendedAttributes.TryGetValue(key, out var value))
        {
            return null;
        }

        if (value.Length > (MaxBytes + 2) / 3 * 4)
        {
            throw new InvalidDataException($"The {key} record is longer than {MaxBytes} bytes.");
        }

        var bytes = new byte[MaxBytes];
        if (!Convert.TryFromBase64String(value, bytes, out var length) || length == 0)
        {
            throw new InvalidDataException($"The {key} record is not base64 or is empty.");
        }

        if (bytes.AsSpan(0, length).Contains((byte)0))
        {
            throw new InvalidDataException($"The {key} record holds a NUL byte.");
        }

        return FileNameBytes.Decode(bytes.AsSpan(0, length));
    }
}
