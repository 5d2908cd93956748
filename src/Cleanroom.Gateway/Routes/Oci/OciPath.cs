using System.Text.RegularExpressions;

namespace Cleanroom.Gateway.Routes.Oci;

/// <summary>
/// Parses the distribution-API part of a gateway path (after <c>/registry/&lt;host&gt;/</c>, or after <c>/</c> for the
/// Docker Hub mirror): <c>v2/</c>, <c>v2/&lt;name&gt;/manifests/&lt;reference&gt;</c> and
/// <c>v2/&lt;name&gt;/blobs/&lt;digest&gt;</c>, with the distribution spec's grammar for names, tags and digests. Only
/// these reads are served; anything else (tag lists, uploads, referrers) is refused here.
/// </summary>
public static partial class OciPath
{
    /// <summary>Longest repository name: what registries commonly enforce (the spec leaves it to them).</summary>
    public const int MaxNameLength = 255;

    /// <summary>Longest error message part that quotes a refused value.</summary>
    private const int MaxShown = 80;

    /// <summary>
    /// Parses <paramref name="pathAfterPrefix"/> (no leading slash, no query). On failure <paramref name="error"/>
    /// says why in a sentence that shows the guest's text only when it is short printable ASCII.
    /// </summary>
    public static bool TryParse(string pathAfterPrefix, out OciRequest request, out string error)
    {
        ArgumentNullException.ThrowIfNull(pathAfterPrefix);
        request = new OciRequest(OciRequestKind.Ping, "", "");
        error = "";
        if (pathAfterPrefix is "v2" or "v2/")
        {
            return true;
        }

        if (!pathAfterPrefix.StartsWith("v2/", StringComparison.Ordinal))
        {
            error = "only the distribution API (/v2/...) is served";
            return false;
        }

        var parts = pathAfterPrefix[3..].Split('/');
        if (parts.Length < 3)
        {
            error = "expected v2/<name>/manifests/<reference> or v2/<name>/blobs/<digest>";
            return false;
        }

        var kind = parts[^2] switch
        {
            "manifests" => OciRequestKind.Manifest,
            "blobs" => OciRequestKind.Blob,
            _ => (OciRequestKind?)null,
        };
        if (kind is null)
        {
            error = "only manifests and blobs are served (v2/<name>/manifests/<reference>, v2/<name>/blobs/<digest>)";
            return false;
        }

        var name = string.Join('/', parts[..^2]);
        var reference = parts[^1];
        if (!IsName(name))
        {
            error = $"{Shown(name)} is not a repository name (lowercase components of a-z, 0-9 and single separators '.', '_', '__' or dashes, joined by '/', at most {MaxNameLength} characters)";
            return false;
        }

        if (kind == OciRequestKind.Blob ? !IsDigest(reference) : !IsTag(reference) && !IsDigest(reference))
        {
            error = kind == OciRequestKind.Blob || reference.Contains(':', StringComparison.Ordinal)
                ? $"{Shown(reference)} is not a digest (only sha256:<64 lowercase hex digits> is accepted)"
                : $"{Shown(reference)} is not a tag (1-128 of a-z, A-Z, 0-9, '_', '.', '-', not starting with '.' or '-')";
            return false;
        }

        request = new OciRequest(kind.Value, name, reference);
        return true;
    }

    /// <summary>A repository name by the distribution spec: <c>[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*</c> components joined by <c>/</c>.</summary>
    public static bool IsName(string? name) => name is { Length: > 0 and <= MaxNameLength } && NamePattern().IsMatch(name);

    /// <summary>A tag: <c>[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}</c>.</summary>
    public static bool IsTag(string? tag) => tag is not null && TagPattern().IsMatch(tag);

    /// <summary>A sha256 digest, lowercase: the only algorithm the cache names blobs by.</summary>
    public static bool IsDigest(string? digest) => digest is not null && DigestPattern().IsMatch(digest);

    /// <summary>A guest's value for a message: quoted when short printable ASCII, else only its length.</summary>
    internal static string Shown(string value) =>
        value.Length <= MaxShown && value.All(c => c is >= ' ' and <= '~')
            ? "'" + value + "'"
            : $"a value of {value.Length} characters (not shown)";

    [GeneratedRegex("^[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*)*\\z", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();

    [GeneratedRegex("^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex TagPattern();

    [GeneratedRegex("^sha256:[a-f0-9]{64}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex DigestPattern();
}
