using System.Formats.Tar;
using Cleanroom.Escaping;

namespace Cleanroom.Images.Layers;

/// <summary>
/// An entry's name and link target as the unpacker uses them: the exact bytes of the <see cref="PaxRawNames"/>
/// vendor records when present (a name that is not valid UTF-8), else what the tar reader decoded. A bad vendor
/// record rejects the entry; the name it gives is then confined like any other.
/// </summary>
internal static class EntryNames
{
    /// <summary>The entry's exact name.</summary>
    /// <exception cref="EntryRejectedException">The <c>CLEANROOM.rawpath</c> record is not valid.</exception>
    public static string PathOf(TarEntry entry)
    {
        try
        {
            return PaxRawNames.NameOf(entry);
        }
        catch (InvalidDataException ex)
        {
            throw new EntryRejectedException($"has an invalid raw name: {ex.Message}");
        }
    }

    /// <summary>The entry's exact link target.</summary>
    /// <exception cref="EntryRejectedException">The <c>CLEANROOM.rawlinkpath</c> record is not valid.</exception>
    public static string LinkOf(TarEntry entry)
    {
        try
        {
            return PaxRawNames.LinkNameOf(entry);
        }
        catch (InvalidDataException ex)
        {
            throw new EntryRejectedException($"has an invalid raw link target: {ex.Message}");
        }
    }

    /// <summary>True when the entry carries its name in a vendor record (so a U+FFFD in it is a real character).</summary>
    public static bool HasRawPath(TarEntry entry) =>
        entry is PaxTarEntry pax && pax.ExtendedAttributes.ContainsKey(PaxRawNames.PathKey);

    /// <summary>True when the entry carries its link target in a vendor record.</summary>
    public static bool HasRawLinkPath(TarEntry entry) =>
        entry is PaxTarEntry pax && pax.ExtendedAttributes.ContainsKey(PaxRawNames.LinkPathKey);

    /// <summary>
    /// The bytes <paramref name="name"/> stands for, counted without encoding it: an escaped byte is one byte (UTF-8
    /// would count the replacement character, three).
    /// </summary>
    public static int ByteCount(ReadOnlySpan<char> name)
    {
        var escaped = 0;
        for (var i = 0; i < name.Length; i++)
        {
            if (FileNameBytes.IsEscapedByte(name[i], out _) && (i == 0 || !char.IsHighSurrogate(name[i - 1])))
            {
                escaped++;
            }
        }

        return System.Text.Encoding.UTF8.GetByteCount(name) - (2 * escaped);
    }
}
