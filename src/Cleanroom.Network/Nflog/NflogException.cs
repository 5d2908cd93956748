namespace Cleanroom.Network.Nflog;

/// <summary>
/// NFLOG cannot be used: the socket could not be opened or bound, the kernel refused the group, or the receive loop
/// met an error it cannot continue past. The message says which and what to do.
/// </summary>
public sealed class NflogException : Exception
{
    public NflogException()
    {
    }

    public NflogException(string message)
        : base(message)
    {
    }

    public NflogException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public NflogException(string message, int errno)
        : base(message)
    {
        Errno = errno;
    }

    /// <summary>The errno behind the failure; 0 when there was none.</summary>
    public int Errno { get; }
}
