namespace Cleanroom.Images.Registry;

/// <summary>
/// A registry operation failed. The message is for the user: it names the registry, the repository and the
/// reference or digest, and quotes the registry's own error codes when it sent any.
/// </summary>
public sealed class RegistryException : Exception
{
    public RegistryException()
    {
    }

    public RegistryException(string message)
        : base(message)
    {
    }

    public RegistryException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public RegistryException(RegistryErrorKind kind, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Kind = kind;
    }

    /// <summary>What kind of failure this is; <see cref="RegistryErrorKind.Protocol"/> when not given.</summary>
    public RegistryErrorKind Kind { get; } = RegistryErrorKind.Protocol;
}
