namespace Cleanroom.Gateway.Routes.Oci;

/// <summary>A parsed distribution-API request (see <see cref="OciPath.TryParse"/>). Every part has passed the OCI grammar.</summary>
/// <param name="Kind">Ping, manifest or blob.</param>
/// <param name="Repository">The repository name (<c>library/alpine</c>); empty for a ping.</param>
/// <param name="Reference">A tag or <c>sha256:&lt;64 hex&gt;</c> for a manifest, a digest for a blob; empty for a ping.</param>
public sealed record OciRequest(OciRequestKind Kind, string Repository, string Reference)
{
    /// <summary>True when <see cref="Reference"/> is a digest (always for a blob).</summary>
    public bool IsDigest => OciPath.IsDigest(Reference);
}
