namespace Cleanroom.Gateway.Upstream;

/// <summary>The upstream could not be reached, timed out, or sent something unusable (502 <c>upstream_error</c>).</summary>
public sealed class UpstreamFailedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public UpstreamFailedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    public UpstreamFailedException(string message, Exception inner)
        : base(message, inner)
    {
    }

    /// <summary>Creates the exception with no message.</summary>
    public UpstreamFailedException()
    {
    }
}
