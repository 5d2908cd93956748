namespace Cleanroom.Client;

/// <summary>An endpoint given by flag or environment that is not one of the accepted forms.</summary>
public sealed class EndpointFormatException : FormatException
{
    /// <summary>Without a message.</summary>
    public EndpointFormatException()
    {
    }

    /// <summary>Saying what is wrong.</summary>
    public EndpointFormatException(string message)
        : base(message)
    {
    }

    /// <summary>Saying what is wrong, caused by <paramref name="innerException"/>.</summary>
    public EndpointFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary><c>invalid endpoint 'ENDPOINT': REASON</c>.</summary>
    public EndpointFormatException(string endpoint, string reason)
        : base($"invalid endpoint '{endpoint}': {reason}")
    {
    }
}
