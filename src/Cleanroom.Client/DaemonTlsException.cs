namespace Cleanroom.Client;

/// <summary>The client's TLS settings cannot be used: a file is missing or malformed, or a flag lacks its partner.</summary>
public sealed class DaemonTlsException : Exception
{
    /// <summary>Without a message.</summary>
    public DaemonTlsException()
    {
    }

    /// <summary>Saying what is wrong.</summary>
    public DaemonTlsException(string message)
        : base(message)
    {
    }

    /// <summary>Saying what is wrong, caused by <paramref name="innerException"/>.</summary>
    public DaemonTlsException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
