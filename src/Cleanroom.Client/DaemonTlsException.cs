namespace Cleanroom.Client;

/// <summary>The client's TLS settings cannot be used: a file is missing or malformed, or a flag lacks its partner.</summary>
public sealed class DaemonTlsException : Exception
{
    public DaemonTlsException()
    {
    }

    public DaemonTlsException(string message)
        : base(message)
    {
    }

    public DaemonTlsException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
