using System.Formats.Tar;
using Cleanroom.Escaping;

namespace Cleanroom.GuestAgent.Tools;

/// <summary>
/// The exact name and link target of an entry the extractor reads: from the <see cref="PaxRawNames"/> vendor record
/// when there is one (any bytes, as <see cref="FileNameBytes"/> carries them), else the entry's own. Only the source
/// of the name changes here; the extractor confines it like any other.
/// </summary>
internal static class ArchiveNames
{
    /// <summary>The entry's name, or a <see cref="ToolException"/> refusing it.</summary>
    public static string Name(TarEntry entry) => Exact(entry, PaxRawNames.PathKey, entry.Name, "entry", entry.Name);

    /// <summary>The entry's link target (symlink or hard link), or a <see cref="ToolException"/> refusing it.</summary>
    public static string LinkName(TarEntry entry) =>
        Exact(entry, PaxRawNames.LinkPathKey, entry.LinkName, "link target of", entry.Name);

    private static string Exact(TarEntry entry, string key, string plain, string what, string shown)
    {
        string exact;
        try
        {
            exact = key == PaxRawNames.PathKey ? PaxRawNames.NameOf(entry) : PaxRawNames.LinkNameOf(entry);
        }
        catch (InvalidDataException ex)
        {
            throw new ToolException($"refusing {what} {UntrustedText.Escape(shown)}: {ex.Message}", ex);
        }

        var recorded = entry is PaxTarEntry pax && pax.ExtendedAttributes.ContainsKey(key);
        if (!recorded && plain.Contains('\uFFFD', StringComparison.Ordinal))
        {
            // A tar reader shows bytes it cannot decode as U+FFFD: the file this name meant is no longer known, and
            // two such names could land on one file.
            throw new ToolException(
                $"refusing {what} {UntrustedText.Escape(shown)}: the name is not valid UTF-8 (U+FFFD shows where its bytes were), so it cannot say which file it meant");
        }

        return exact;
    }
}
