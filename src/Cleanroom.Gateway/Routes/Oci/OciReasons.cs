namespace Cleanroom.Gateway.Routes.Oci;

/// <summary>
/// The <c>X-Cleanroom-Reason-Code</c> values OCI answers carry. Codes that <see cref="ReasonCode"/> has come from it;
/// the gateway-only ones (<c>invalid_request</c>, <c>upstream_error</c>) are spelled here until they join it.
/// </summary>
public static class OciReasons
{
    /// <summary>The sandbox's policy does not allow the registry (or a host it redirected to) on its port.</summary>
    public static readonly string HostNotAllowed = ReasonCode.HostNotAllowed.ToSnakeCase();

    /// <summary>A manifest or blob is bigger than the gateway accepts.</summary>
    public static readonly string ImageTooLarge = ReasonCode.ImageTooLarge.ToSnakeCase();

    /// <summary>The path, name, reference or registry host is not valid.</summary>
    public const string InvalidRequest = "invalid_request";

    /// <summary>The upstream registry failed, refused us, or sent something unacceptable, and nothing cached stands in.</summary>
    public const string UpstreamError = "upstream_error";
}
