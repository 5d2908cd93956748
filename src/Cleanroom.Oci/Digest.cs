using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace Cleanroom.Oci;

/// <summary>
/// A content digest, <c>sha256:</c> followed by 64 lowercase hex digits. Only sha256 is accepted: it is what every
/// registry serves, and one algorithm means one code path for verification.
/// </summary>
public sealed partial record Digest
{
    private Digest(string hex) => Hex = hex;

    /// <summary>The 64 lowercase hex digits.</summary>
    public string Hex { get; }

    /// <inheritdoc/>
    public override string ToString() => "sha256:" + Hex;

    /// <summary>Parses <c>sha256:&lt;hex&gt;</c>; throws <see cref="FormatException"/> naming what was wrong.</summary>
    public static Digest Parse(string text) =>
        TryParse(text, out var digest) ? digest : throw new FormatException($"'{Truncate(text)}' is not a sha256 digest (expected sha256: and 64 hex digits)");

    /// <summary>Parses <c>sha256:&lt;hex&gt;</c> (hex case-insensitive).</summary>
    public static bool TryParse(string? text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Digest? digest)
    {
        digest = null;
        if (text is null || !Pattern().IsMatch(text))
        {
            return false;
        }

        digest = new Digest(text[7..].ToLowerInvariant());
        return true;
    }

    /// <summary>The digest of <paramref name="content"/>.</summary>
    public static Digest Of(ReadOnlySpan<byte> content) => FromHash(SHA256.HashData(content));

    /// <summary>The digest from a finished SHA-256 hash.</summary>
    public static Digest FromHash(ReadOnlySpan<byte> sha256) => new(Convert.ToHexStringLower(sha256));

    private static string Truncate(string? text) => text is null ? "" : text.Length > 80 ? text[..80] + "…" : text;

    [GeneratedRegex("^sha256:[0-9a-fA-F]{64}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
