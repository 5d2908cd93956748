namespace Cleanroom.GuestAgent.Init;

/// <summary>A boot step failed; the message is what the console shows before the VM powers off.</summary>
internal sealed class InitException : Exception
{
    public InitException()
    {
    }

    public InitException(string message)
        : base(message)
    {
    }

    public InitException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
