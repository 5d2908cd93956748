using Cleanroom.Oci;

namespace Cleanroom.Images.Registry;

/// <summary>One repository on one registry, as the client addresses it.</summary>
internal sealed record RegistryTarget(string Registry, string RepositoryPath, Uri BaseUri)
{
    public static RegistryTarget For(ImageReference image, IReadOnlyList<string> plainHttpRegistries) =>
        new(RegistryHosts.Canonical(image.Registry), image.Path, RegistryHosts.BaseUri(image.Registry, plainHttpRegistries));

    public static RegistryTarget For(ImageReference image, RegistryClientOptions options) =>
        new(RegistryHosts.Canonical(image.Registry), image.Path, RegistryHosts.BaseUri(image.Registry, options.PlainHttpRegistries, options.BaseUris));

    /// <summary><c>registry/path</c>, as people write it.</summary>
    public string Repository => Registry + "/" + RepositoryPath;

    /// <summary>The absolute URL of <c>/v2/&lt;path&gt;/&lt;rest&gt;</c>.</summary>
    public Uri ApiUri(string rest) => new(BaseUri, "v2/" + RepositoryPath + "/" + rest);

    /// <summary>True when <paramref name="uri"/> is the registry itself (same scheme, host and port), not a redirect target elsewhere.</summary>
    public bool IsSameOrigin(Uri uri) =>
        Uri.Compare(uri, BaseUri, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0;
}
