using System.Security.Cryptography;
using System.Text;
using Cleanroom.Images.Registry;

namespace Cleanroom.Gateway.Routes.Oci;

/// <summary>
/// The part of a cache key that says with which credentials an object was fetched: <c>public</c> when the gateway
/// holds none for the registry, else a fingerprint of the registry and the credential. A cached private object is
/// thus served only while the same credentials would fetch it again; new or removed credentials start a new scope
/// (the old entries age out). The fingerprint is a truncated SHA-256: it names a credential without revealing it
/// to anyone who reads the cache metadata (which the daemon user, who can read the Docker config anyway, owns).
/// </summary>
internal static class OciCredentialScope
{
    /// <summary>The scope of objects fetched anonymously.</summary>
    public const string Public = "public";

    /// <summary>The scope for <paramref name="registry"/> (canonical name) under <paramref name="credentials"/>.</summary>
    public static string For(string registry, RegistryCredentialStore credentials)
    {
        if (credentials.Find(registry) is not { } credential)
        {
            return Public;
        }

        var material = string.Join('\0', "cleanroom-oci-credential-scope-v1", registry, credential.Username ?? "", credential.Password ?? "", credential.IdentityToken ?? "");
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(material));
        return "cred-" + Convert.ToHexStringLower(hash.AsSpan(0, 16));
    }
}
