namespace Cleanroom.Gateway.Routes.Oci;

/// <summary>Where an OCI answer's body came from (for the route's counters and an <c>X-Cache</c>-style header).</summary>
public enum OciCacheResult
{
    /// <summary>A fresh cache entry.</summary>
    Hit,

    /// <summary>Fetched from the upstream registry now (and stored).</summary>
    Miss,

    /// <summary>A tag whose TTL had passed, served because the upstream could not be reached.</summary>
    Stale,
}
