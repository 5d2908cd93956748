namespace Cleanroom.Gateway.Routes.Oci;

/// <summary>
/// The distribution spec's error codes (the <c>errors[].code</c> of an error body), so a Docker or containerd client
/// shows a meaningful error. <see cref="Unavailable"/> and <see cref="Unknown"/> are Docker's additions, which clients know.
/// </summary>
public static class OciErrorCodes
{
    public const string BlobUnknown = "BLOB_UNKNOWN";
    public const string ManifestUnknown = "MANIFEST_UNKNOWN";
    public const string ManifestInvalid = "MANIFEST_INVALID";
    public const string NameInvalid = "NAME_INVALID";
    public const string NameUnknown = "NAME_UNKNOWN";
    public const string TagInvalid = "TAG_INVALID";
    public const string DigestInvalid = "DIGEST_INVALID";
    public const string SizeInvalid = "SIZE_INVALID";
    public const string Unauthorized = "UNAUTHORIZED";
    public const string Denied = "DENIED";
    public const string Unsupported = "UNSUPPORTED";
    public const string Unavailable = "UNAVAILABLE";
    public const string Unknown = "UNKNOWN";
}
