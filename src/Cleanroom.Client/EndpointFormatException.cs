namespace Cleanroom.Client;

/// <summary>An endpoint given by flag or environment that is not one of the accepted forms.</summary>
public sealed class EndpointFormatException : FormatException
{
    public EndpointFormatException()
    {
    }

    public EndpointFormatException(string message)
        : base(message)
    {
    }

    public EndpointFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public EndpointFormatException(string endpoint, string reason)
        : base($"invalid endpoint '{endpoint}': {reason}")
    {
    }
}
