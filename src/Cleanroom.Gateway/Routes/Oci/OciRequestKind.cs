namespace Cleanroom.Gateway.Routes.Oci;

/// <summary>What a distribution-API path asks for.</summary>
public enum OciRequestKind
{
    /// <summary><c>/v2/</c>: the API version check clients make first.</summary>
    Ping,

    /// <summary><c>/v2/&lt;name&gt;/manifests/&lt;reference&gt;</c>: a manifest or index by tag or digest.</summary>
    Manifest,

    /// <summary><c>/v2/&lt;name&gt;/blobs/&lt;digest&gt;</c>: a layer or config by digest.</summary>
    Blob,
}
