namespace Cleanroom.Gateway.Upstream;

/// <summary>
/// The upstream answered with a status that is not cached (not 200): the route passes status and (bounded) body on
/// uncached. Thrown out of a cache fill so that no waiter caches it.
/// </summary>
public sealed class UpstreamStatusException : Exception
{
    /// <summary>Creates the exception for a status and the start of its body.</summary>
    public UpstreamStatusException(int status, string contentType, byte[] body)
        : base($"the upstream answered {status}")
    {
        Status = status;
        ContentType = contentType;
        Body = body;
    }

    /// <summary>Creates the exception with no status.</summary>
    public UpstreamStatusException()
    {
        ContentType = "";
        Body = [];
    }

    /// <summary>Creates the exception with a message.</summary>
    public UpstreamStatusException(string message, Exception inner)
        : base(message, inner)
    {
        ContentType = "";
        Body = [];
    }

    /// <summary>The upstream's status.</summary>
    public int Status { get; }

    /// <summary>Its Content-Type (checked), or empty.</summary>
    public string ContentType { get; }

    /// <summary>The start of its body (bounded).</summary>
    public byte[] Body { get; }

    /// <summary>True for statuses that mean the upstream itself is failing (5xx): a stale entry may stand in.</summary>
    public bool IsServerFailure => Status >= 500;
}
