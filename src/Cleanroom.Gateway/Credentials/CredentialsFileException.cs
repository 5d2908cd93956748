namespace Cleanroom.Gateway.Credentials;

/// <summary>The gateway credentials file is unusable; the message says why and never quotes a secret.</summary>
public sealed class CredentialsFileException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CredentialsFileException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    public CredentialsFileException(string message, Exception inner)
        : base(message, inner)
    {
    }

    /// <summary>Creates the exception with no message.</summary>
    public CredentialsFileException()
    {
    }
}
