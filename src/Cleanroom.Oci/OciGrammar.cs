using System.Text.RegularExpressions;

namespace Cleanroom.Oci;

/// <summary>
/// The shapes registry-provided names must have before anything downstream (messages, logs, the store, the CLI) sees
/// them. Checking the grammar, instead of escaping at each place they are shown, means a manifest carrying a
/// terminal escape or a forged line in a media type or platform field is refused whole, and nothing raw flows on.
/// </summary>
public static partial class OciGrammar
{
    /// <summary>
    /// A media type as the OCI image spec constrains it (RFC 6838 <c>type/subtype</c>, restricted-name characters,
    /// at most 127 of them on each side), without parameters.
    /// </summary>
    public static bool IsMediaType(string? text) => text is not null && MediaTypePattern().IsMatch(text);

    /// <summary>
    /// An <c>os</c>, <c>architecture</c> or <c>variant</c> value: a short word such as <c>linux</c>, <c>amd64</c>,
    /// <c>ppc64le</c> or <c>v8</c> (GOOS / GOARCH style).
    /// </summary>
    public static bool IsPlatformField(string? text) => text is not null && PlatformFieldPattern().IsMatch(text);

    /// <summary>Throws <see cref="FormatException"/> unless <paramref name="mediaType"/> is empty or a media type.</summary>
    public static void RequireMediaType(string? mediaType, string what)
    {
        if (!string.IsNullOrEmpty(mediaType) && !IsMediaType(mediaType))
        {
            throw new FormatException($"{what} has a media type that is not of the form type/subtype ({Shown(mediaType)})");
        }
    }

    /// <summary>Throws <see cref="FormatException"/> unless each non-empty field is a platform word.</summary>
    public static void RequirePlatform(string? os, string? architecture, string? variant, string what)
    {
        foreach (var (name, value) in new[] { ("os", os), ("architecture", architecture), ("variant", variant) })
        {
            if (!string.IsNullOrEmpty(value) && !IsPlatformField(value))
            {
                throw new FormatException($"{what} has a platform {name} that is not a short word of a-z, 0-9, '_' and '-' ({Shown(value)})");
            }
        }
    }

    /// <summary>
    /// A refused value for a message: quoted when it is short printable ASCII, else only its length. It is hostile by
    /// definition, so an escape sequence or a newline in it must never reach a terminal or a log.
    /// </summary>
    public static string Shown(string? value)
    {
        if (value is null)
        {
            return "none";
        }

        return value.Length <= 80 && value.All(c => c is >= ' ' and <= '~')
            ? "'" + value + "'"
            : $"{value.Length} characters, not shown: control, non-ASCII or too many";
    }

    // \z, not $: $ also matches before a final newline, which is exactly what a forged line ends with.
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex MediaTypePattern();

    [GeneratedRegex("^[A-Za-z0-9_-]{1,32}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex PlatformFieldPattern();
}
