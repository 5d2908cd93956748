using System.Text.RegularExpressions;

namespace Cleanroom.Oci;

/// <summary>
/// An OCI image reference <c>[registry/]repository[:tag][@sha256:digest]</c>, as written in a policy's
/// <c>sandbox.image.ref</c> or on the command line. A digest pins the exact bytes; a tag can move under you.
/// <see cref="Reference"/> keeps the user's spelling (canonicalised); <see cref="Registry"/> and <see cref="Path"/> are
/// the normalised names a registry client uses (Docker Hub's implicit <c>docker.io</c> and <c>library/</c>).
/// </summary>
public sealed partial class ImageReference
{
    /// <summary>The registry Docker Hub images live on when a reference names none.</summary>
    public const string DockerHub = "docker.io";

    private ImageReference(string reference, string repository, string registry, string path, string? tag, string? digest)
    {
        Reference = reference;
        Repository = repository;
        Registry = registry;
        Path = path;
        Tag = tag;
        Digest = digest;
    }

    /// <summary>The whole reference in canonical form (registry and digest lowercased).</summary>
    public string Reference { get; }

    /// <summary>The repository including its registry, e.g. <c>ghcr.io/buildkite/cleanroom-base/alpine</c>.</summary>
    public string Repository { get; }

    /// <summary>The registry host (and port) to talk to: <c>docker.io</c> when the reference names none.</summary>
    public string Registry { get; }

    /// <summary>The repository path on <see cref="Registry"/>; Docker Hub's official images get <c>library/</c>.</summary>
    public string Path { get; }

    /// <summary>The tag, when one was written.</summary>
    public string? Tag { get; }

    /// <summary>The digest, <c>sha256:</c> and 64 lowercase hex digits, when the reference is pinned.</summary>
    public string? Digest { get; }

    /// <summary>True when the reference names a digest.</summary>
    public bool IsPinned => Digest is not null;

    /// <summary>What to ask the registry for: the digest when pinned, else the tag (<c>latest</c> when none).</summary>
    public string ManifestReference => Digest ?? Tag ?? "latest";

    /// <summary>The same repository pinned to <paramref name="digest"/> (the tag is dropped: the digest decides).</summary>
    public ImageReference WithDigest(string digest)
    {
        var pinned = Parse(Repository + "@" + digest, out var problem);
        return pinned ?? throw new ArgumentException(problem, nameof(digest));
    }

    /// <inheritdoc/>
    public override string ToString() => Reference;

    /// <summary>Parses a reference, throwing <see cref="FormatException"/> with the reason on a bad one.</summary>
    public static ImageReference Parse(string text) =>
        Parse(text, out var problem) ?? throw new FormatException($"'{text}' is not a valid image reference: {problem}");

    /// <summary>Parses a reference; <paramref name="problem"/> explains a rejection.</summary>
    public static ImageReference? Parse(string text, out string problem)
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

        var repository = NormalizeRepository(name, out var registry, out var path, out problem);
        if (repository is null)
        {
            return null;
        }

        var canonical = repository + (tag is null ? string.Empty : ":" + tag) + (digest is null ? string.Empty : "@" + digest);
        return new ImageReference(canonical, repository, registry, path, tag, digest);
    }

    private static string? NormalizeRepository(string name, out string registryHost, out string repositoryPath, out string problem)
    {
        problem = string.Empty;
        registryHost = DockerHub;
        repositoryPath = string.Empty;
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
        // Docker Hub spells one registry three ways, and puts official images under library/.
        registryHost = registry is "" or "index.docker.io" or "registry-1.docker.io" ? DockerHub : registry;
        repositoryPath = registryHost == DockerHub && components.Length - first == 1 ? "library/" + path : path;
        return registry.Length == 0 ? path : registry + "/" + path;
    }

    [GeneratedRegex("^sha256:[0-9a-f]{64}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex DigestPattern();

    [GeneratedRegex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex TagPattern();

    [GeneratedRegex("^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?\\z", RegexOptions.CultureInvariant)]
    private static partial Regex RegistryPattern();

    [GeneratedRegex("^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*\\z", RegexOptions.CultureInvariant)]
    private static partial Regex PathComponentPattern();
}
