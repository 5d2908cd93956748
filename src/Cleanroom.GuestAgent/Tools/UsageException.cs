namespace Cleanroom.GuestAgent.Tools;

/// <summary>The tool's arguments are wrong (exit 2).</summary>
internal sealed class UsageException : Exception
{
    public UsageException()
    {
    }

    public UsageException(string message)
        : base(message)
    {
    }

    public UsageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
