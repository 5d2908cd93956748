namespace Cleanroom.Cli.Files;

/// <summary>A copy that cannot go ahead, with the one-line reason the command prints after <c>cleanroom:</c>.</summary>
internal sealed class CpException : Exception
{
    public CpException()
    {
    }

    public CpException(string message)
        : base(message)
    {
    }

    public CpException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
