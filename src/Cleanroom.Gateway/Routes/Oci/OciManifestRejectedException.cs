namespace Cleanroom.Gateway.Routes.Oci;

/// <summary>An upstream served a manifest the pull-through does not pass on (a media type that is not an OCI or Docker v2 manifest or index).</summary>
public sealed class OciManifestRejectedException : Exception
{
    public OciManifestRejectedException()
    {
    }

    public OciManifestRejectedException(string message)
        : base(message)
    {
    }

    public OciManifestRejectedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
