using System.Text.RegularExpressions;

namespace Cleanroom.Policy;

/// <summary>
/// <c>sandbox.image.ref</c>: an OCI reference <c>[registry/]repository[:tag][@sha256:digest]</c>. A digest pins the
/// exact bytes; a reference without one is accepted with a warning because a tag can move under you.
/// </summary>
public sealed partial class ImageReference
{
    private ImageReference(string reference, string repository, string? tag, string? digest)
    {
        Reference = reference;
        Repository = repository;
        Tag = tag;
        Digest = digest;
    }

    /// <summary>The whole reference in canonical form (registry and digest lowercased).</summary>
    public string Reference { get; }

    /// <summary>The repository including its registry, e.g. <c>ghcr.io/buildkite/cleanroom-base/alpine</c>.</summary>
    public string Repository { get; }

    /// <summary>The tag, when one was written.</summary>
    public string? Tag { get; }

    /// <summary>The digest, <c>sha256:</c> and 64 lowercase hex digits, when the reference is pinned.</summary>
    public string? Digest { get; }

    /// <summary>True when the reference names a digest.</summary>
    public bool IsPinned => Digest is not null;

    /// <inheritdoc/>
    public override string ToString() => Reference;

    /// <summary>Parses a reference; <paramref name="problem"/> explains a rejection.</summary>
    internal static ImageReference? Parse(string text, out string problem)
    {
        problem = string.Empty;
        var reference = text.Trim();
        if (reference.Length == 0 || reference.Contains("://", StringComparison.Ordinal) || reference.Any(char.IsWhiteSpace))
        {
            problem = reference.Length == 0 ? "the image reference is empty" : "an image reference has no scheme and no spaces";
            return null;
        }

        string? digest = null;
        var at = reference.IndexOf('@', StringComparison.Ordinal);
        var name = reference;
        if (at >= 0)
        {
            digest = reference[(at + 1)..].ToLowerInvariant();
            name = reference[..at];
            if (!DigestPattern().IsMatch(digest))
            {
                problem = digest.StartsWith("sha256:", StringComparison.Ordinal)
                    ? "a sha256 digest is 64 hexadecimal digits"
                    : "only sha256 digests are supported";
                return null;
            }
        }

        string? tag = null;
        var colon = name.LastIndexOf(':');
        if (colon > name.LastIndexOf('/'))
        {
            tag = name[(colon + 1)..];
            name = name[..colon];
            if (!TagPattern().IsMatch(tag))
            {
                problem = "a tag is 1-128 letters, digits, '_', '.' or '-', not starting with '.' or '-'";
                return null;
            }
        }

        var repository = NormalizeRepository(name, out problem);
        if (repository is null)
        {
            return null;
        }

        var canonical = repository + (tag is null ? string.Empty : ":" + tag) + (digest is null ? string.Empty : "@" + digest);
        return new ImageReference(canonical, repository, tag, digest);
    }

    private static string? NormalizeRepository(string name, out string problem)
    {
        problem = string.Empty;
        var components = name.Split('/');
        var first = 0;
        var registry = string.Empty;
        if (components.Length > 1 && (components[0].Contains('.', StringComparison.Ordinal)
            || components[0].Contains(':', StringComparison.Ordinal) || components[0] == "localhost"))
        {
            registry = components[0].ToLowerInvariant();
            if (!RegistryPattern().IsMatch(registry))
            {
                problem = "the registry must be a host name with an optional :port";
                return null;
            }

            first = 1;
        }

        for (var i = first; i < components.Length; i++)
        {
            if (!PathComponentPattern().IsMatch(components[i]))
            {
                problem = components[i].Any(char.IsAsciiLetterUpper)
                    ? "repository names must be lowercase"
                    : "repository path components are lowercase letters and digits separated by '.', '_', '__' or '-'";
                return null;
            }
        }

        var path = string.Join('/', components[first..]);
        return registry.Length == 0 ? path : registry + "/" + path;
    }

    [GeneratedRegex("^sha256:[0-9a-f]{64}$", RegexOptions.CultureInvariant)]
    private static partial Regex DigestPattern();

    [GeneratedRegex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", RegexOptions.CultureInvariant)]
    private static partial Regex TagPattern();

    [GeneratedRegex("^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$", RegexOptions.CultureInvariant)]
    private static partial Regex RegistryPattern();

    [GeneratedRegex("^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$", RegexOptions.CultureInvariant)]
    private static partial Regex PathComponentPattern();
}
