using Cleanroom.Gateway.Cache;
using Cleanroom.Oci;

namespace Cleanroom.Gateway.Routes.Oci;

/// <summary>One repository on one registry as the pull-through fetches and caches it.</summary>
/// <param name="Registry">The checked registry.</param>
/// <param name="Repository">The repository path on it (Docker Hub's <c>library/</c> added).</param>
/// <param name="Image">The reference the registry client is given (repository only; the tag or digest is passed separately).</param>
/// <param name="Scope">The credential scope (<see cref="OciCredentialScope"/>).</param>
/// <param name="BaseUri">Where the registry client sends its requests (an upstream override, or the registry itself).</param>
internal sealed record OciTarget(OciRegistry Registry, string Repository, ImageReference Image, string Scope, Uri BaseUri)
{
    /// <summary><c>oci|kind|scope/registry/repository{suffix}</c>: what the guest asked for, under the credentials that fetch it.</summary>
    public CacheKey Key(string kind, string suffix) => new("oci", kind, $"{Scope}/{Registry.Registry}/{Repository}{suffix}");

    /// <summary><c>registry/repository</c>, for messages.</summary>
    public string Name => $"{Registry.Registry}/{Repository}";
}
