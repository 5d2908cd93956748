using System.Security.Cryptography;

namespace Cleanroom.Gateway.Cache;

/// <summary>
/// The SHA-256 of a blob's bytes: the blob's name in the store. Always 64 lowercase hex digits, so a digest that came
/// from a guest or an upstream can only name a file inside the store's two-level layout.
/// </summary>
public readonly record struct BlobDigest
{
    /// <summary>Hex digits in a SHA-256 digest.</summary>
    public const int HexLength = 64;

    private const string Prefix = "sha256:";

    private BlobDigest(string hex) => Hex = hex;

    /// <summary>The 64 lowercase hex digits.</summary>
    public string Hex { get; }

    /// <summary>The digest of a finished SHA-256 hash.</summary>
    public static BlobDigest FromHash(ReadOnlySpan<byte> sha256)
    {
        if (sha256.Length != SHA256.HashSizeInBytes)
        {
            throw new ArgumentException($"a SHA-256 hash is {SHA256.HashSizeInBytes} bytes, not {sha256.Length}", nameof(sha256));
        }

        return new BlobDigest(Convert.ToHexStringLower(sha256));
    }

    /// <summary>The digest of <paramref name="bytes"/> (for small in-memory content and tests).</summary>
    public static BlobDigest Of(ReadOnlySpan<byte> bytes) => FromHash(SHA256.HashData(bytes));

    /// <summary>Parses <c>sha256:&lt;hex&gt;</c> or bare hex (either case).</summary>
    /// <exception cref="FormatException">The text is not a SHA-256 digest.</exception>
    public static BlobDigest Parse(string text) =>
        TryParse(text, out var digest) ? digest : throw new FormatException($"not a SHA-256 digest: '{Shorten(text)}'");

    /// <summary>Parses <c>sha256:&lt;hex&gt;</c> or bare hex (either case); false for anything else.</summary>
    public static bool TryParse(string? text, out BlobDigest digest)
    {
        digest = default;
        if (text is null)
        {
            return false;
        }

        var hex = text.StartsWith(Prefix, StringComparison.Ordinal) ? text.AsSpan(Prefix.Length) : text.AsSpan();
        if (hex.Length != HexLength || hex.ContainsAnyExcept(HexDigits))
        {
            return false;
        }

        digest = new BlobDigest(hex.ToString().ToLowerInvariant());
        return true;
    }

    /// <summary><c>sha256:&lt;hex&gt;</c>.</summary>
    public override string ToString() => Prefix + Hex;

    private static readonly System.Buffers.SearchValues<char> HexDigits =
        System.Buffers.SearchValues.Create("0123456789abcdefABCDEF");

    // Error messages quote untrusted text; keep them short.
    private static string Shorten(string text) => text.Length <= 80 ? text : text[..80] + "…";
}
